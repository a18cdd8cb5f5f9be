"""The province's working-day calendar, read from its database (the arithmetic is in `deadlines`)."""

from datetime import time

from . import deadlines
from .models import WorkingDayOverride


def cutoff_time() -> time:
    return deadlines.default_cutoff()


def current_calendar() -> deadlines.WorkingCalendar:
    """This province's working days: national holidays plus its own overrides."""
    days_off, working, reasons = [], [], {}
    for override in WorkingDayOverride.objects.all():
        (working if override.is_working_day else days_off).append(override.date)
        reasons[override.date] = override.reason
    return deadlines.WorkingCalendar(days_off=days_off, working_days=working, reasons=reasons)
