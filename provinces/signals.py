"""A province's hosts leave every web process's tenant cache when its domains or the province change."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from egov.middleware import forget_hosts

from .models import Domain, Province


def _forget_after_commit(hosts):
    hosts = [h for h in hosts if h]
    # Now (this transaction's own reads) and after the commit (other processes read the new rows).
    forget_hosts(hosts)
    transaction.on_commit(lambda: forget_hosts(hosts))


@receiver(pre_save, sender=Domain)
def _remember_old_host(sender, instance, **kwargs):
    instance._previous_host = (
        Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first() if instance.pk else None
    )


@receiver(post_save, sender=Domain)
def _domain_saved(sender, instance, **kwargs):
    _forget_after_commit([instance.domain, getattr(instance, "_previous_host", None)])


@receiver(post_delete, sender=Domain)
def _domain_deleted(sender, instance, **kwargs):
    _forget_after_commit([instance.domain])


@receiver(post_save, sender=Province)
def _province_saved(sender, instance, created, **kwargs):
    if not created:
        _forget_after_commit(list(Domain.objects.filter(tenant=instance).values_list("domain", flat=True)))
