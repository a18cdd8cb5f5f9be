"""The province's working-day calendar, read from its database (the arithmetic is in `deadlines`).

Every intake and every deadline asks for it, and it changes a few times a year: each web process
keeps one calendar per province in the tenant cache (egov/middleware.py), dropped in every process
when an override is saved or deleted (the receivers below), and read from the database by the
transaction that changes it until that transaction commits."""

from datetime import time

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from egov.middleware import cached, forget

from . import deadlines
from .models import WorkingDayOverride

CALENDAR_PREFIX = "tenant-calendar:"  # + schema name


def cutoff_time() -> time:
    return deadlines.default_cutoff()


def _read_calendar() -> deadlines.WorkingCalendar:
    days_off, working, reasons = [], [], {}
    for override in WorkingDayOverride.objects.all():
        (working if override.is_working_day else days_off).append(override.date)
        reasons[override.date] = override.reason
    return deadlines.WorkingCalendar(days_off=days_off, working_days=working, reasons=reasons)


def current_calendar() -> deadlines.WorkingCalendar:
    """This province's working days: national holidays plus its own overrides (shared: read it only)."""
    return cached(CALENDAR_PREFIX + connection.schema_name, _read_calendar)


@receiver(post_save, sender=WorkingDayOverride, dispatch_uid="dossiers.calendar_saved")
@receiver(post_delete, sender=WorkingDayOverride, dispatch_uid="dossiers.calendar_deleted")
def _forget_calendar(sender, **kwargs):
    forget([CALENDAR_PREFIX + connection.schema_name])
