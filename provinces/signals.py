"""A province's cached data leaves every web process when its domains or the province change: its
hosts (the host → province cache) and its primary domain (the links of receipts and messages)."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from egov.middleware import PREFIX, PRIMARY_DOMAIN_PREFIX, forget

from .models import Domain, Province


def _forget(hosts=(), schemas=()):
    # Now (this transaction's own reads) and after the commit (other processes read the new rows).
    forget([PREFIX + h for h in hosts if h] + [PRIMARY_DOMAIN_PREFIX + s for s in schemas if s])


def _schema_of(domain):
    return Province.objects.filter(pk=domain.tenant_id).values_list("schema_name", flat=True).first()


@receiver(pre_save, sender=Domain)
def _remember_old_host(sender, instance, **kwargs):
    previous = None
    if instance.pk:
        previous = Domain.objects.filter(pk=instance.pk).values_list("domain", "tenant__schema_name").first()
    instance._previous_host, instance._previous_schema = previous or (None, None)


@receiver(post_save, sender=Domain)
def _domain_saved(sender, instance, **kwargs):
    _forget(
        [instance.domain, getattr(instance, "_previous_host", None)],
        [_schema_of(instance), getattr(instance, "_previous_schema", None)],
    )


@receiver(post_delete, sender=Domain)
def _domain_deleted(sender, instance, **kwargs):
    _forget([instance.domain], [_schema_of(instance)])


@receiver(post_save, sender=Province)
def _province_saved(sender, instance, created, **kwargs):
    if not created:
        _forget(Domain.objects.filter(tenant=instance).values_list("domain", flat=True), [instance.schema_name])
