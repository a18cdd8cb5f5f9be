"""The dossier events keep the figures: each event refreshes its dossier's contribution, in the event's
transaction (dossiers.services._record sends `dossier_event` inside it). A calendar or catalogue change
settles the province's figures again."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from dossiers.events import dossier_event
from dossiers.models import Procedure, WorkingDayOverride


@receiver(dossier_event, dispatch_uid="reports.figures")
def _dossier_changed(sender, event, dossier, **kwargs):
    from . import figures

    figures.refresh_dossier(dossier, event)


# What a dossier contributes also depends on the province's calendar (processing days, the due dates
# replayed between supplements) and on the department handling its procedure: when either changes, the
# province's figures are settled again in the background (a rebuild settles each source's difference).
@receiver(post_save, sender=WorkingDayOverride, dispatch_uid="reports.calendar_saved")
@receiver(post_delete, sender=WorkingDayOverride, dispatch_uid="reports.calendar_deleted")
def _calendar_changed(sender, **kwargs):
    _rebuild_after_commit()


@receiver(pre_save, sender=Procedure, dispatch_uid="reports.procedure_moving")
def _procedure_moving(sender, instance, **kwargs):
    if instance.pk is not None and not kwargs.get("raw"):
        before = Procedure.objects.filter(pk=instance.pk).values_list("department_id", flat=True).first()
        instance._figures_department_changed = before is not None and before != instance.department_id


@receiver(post_save, sender=Procedure, dispatch_uid="reports.procedure_moved")
def _procedure_moved(sender, instance, **kwargs):
    if getattr(instance, "_figures_department_changed", False):
        _rebuild_after_commit()


def _rebuild_after_commit():
    from .tasks import rebuild_figures

    transaction.on_commit(rebuild_figures.delay)
