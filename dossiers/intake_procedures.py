"""The procedure an intake names, with its papers and the points it may be received at, from memory.

Every intake reads its procedure, the procedure's list of papers and its reception points: three
statements, for rows that change a few times a year. Each web process keeps them per province and
code in the tenant cache (egov/middleware.py), dropped in every process by the receivers below when a
procedure, one of its papers, its list of points or one of those points is saved or deleted, and
read from the database by the transaction that changes them until it commits. Each caller gets its
own copy of the Procedure (the shared one is never handed out); the papers and points are read-only.
"""

import copy

from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from egov.middleware import cached, forget
from offices.models import Department

from .models import Procedure, ProcedureComponent

PREFIX = "intake-procedure:"  # + schema name + ":" + procedure code


def _key(code):
    return f"{PREFIX}{connection.schema_name}:{code}"


def active_procedure(code: str) -> Procedure | None:
    """The active procedure of this province with this code (papers and points prefetched), or None."""

    def read():
        return (
            Procedure.objects.filter(is_active=True, code=code)
            .prefetch_related("components", "reception_points")
            .first()
        )

    procedure = cached(_key(code), read)
    return copy.copy(procedure) if procedure is not None else None


def _forget_codes(codes):
    forget([_key(code) for code in codes])


@receiver(pre_save, sender=Procedure, dispatch_uid="dossiers.intake_procedure_renamed")
def _procedure_renamed(sender, instance, raw=False, **kwargs):
    if instance.pk is not None and not raw:  # a new code: the old one must not answer any more
        _forget_codes(Procedure.objects.filter(pk=instance.pk).values_list("code", flat=True))


@receiver(post_save, sender=Procedure, dispatch_uid="dossiers.intake_procedure_saved")
@receiver(post_delete, sender=Procedure, dispatch_uid="dossiers.intake_procedure_deleted")
def _procedure_changed(sender, instance, **kwargs):
    _forget_codes([instance.code])


@receiver(post_save, sender=ProcedureComponent, dispatch_uid="dossiers.intake_paper_saved")
@receiver(post_delete, sender=ProcedureComponent, dispatch_uid="dossiers.intake_paper_deleted")
def _paper_changed(sender, instance, **kwargs):
    _forget_codes(Procedure.objects.filter(pk=instance.procedure_id).values_list("code", flat=True))


@receiver(m2m_changed, sender=Procedure.reception_points.through, dispatch_uid="dossiers.intake_points_changed")
def _points_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:  # a procedure's list of points
        if action.startswith("post_"):
            _forget_codes([instance.code])
    elif action == "pre_clear":  # a point's procedures cleared, from the point's side: whichever listed it
        _forget_codes(Procedure.objects.filter(reception_points=instance.pk).values_list("code", flat=True))
    elif action.startswith("post_") and pk_set:  # procedures added to or removed from a point
        _forget_codes(Procedure.objects.filter(pk__in=pk_set).values_list("code", flat=True))


@receiver(post_save, sender=Department, dispatch_uid="dossiers.intake_point_saved")
@receiver(pre_delete, sender=Department, dispatch_uid="dossiers.intake_point_deleted")
def _point_changed(sender, instance, raw=False, **kwargs):
    if instance.pk is not None and not raw:  # its name is in the intake's refusal; it may close
        _forget_codes(Procedure.objects.filter(reception_points=instance.pk).values_list("code", flat=True))
