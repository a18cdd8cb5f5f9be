"""Queries that pages share: what an officer may see, and the worklists."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .calendars import current_calendar
from .models import Dossier, Status

# Statuses whose clock is running (not paused for supplementation, not done).
RUNNING = (Status.ACCEPTED, Status.IN_PROGRESS, Status.FEES)


def officer_of(user):
    return getattr(user, "officer", None) if user.is_authenticated else None


def visible_dossiers(user):
    """Dossiers an officer may see: all for the one-stop-shop and admins, else their department's."""
    qs = Dossier.objects.select_related("procedure", "current_department", "current_officer__user")
    if user.is_superuser or user.has_perm("dossiers.view_all_dossiers"):
        return qs
    officer = officer_of(user)
    if officer is None:
        return qs.none()
    return qs.filter(current_department=officer.department)


def due_soon_limit(today=None, within=2):
    today = today or timezone.localdate()
    return current_calendar().add_working_days(today, within)


WORKLISTS = {
    "mine": _("Hồ sơ tôi đang giữ"),
    "department": _("Hồ sơ của phòng ban tôi"),
    "supplement": _("Chờ bổ sung"),
    "due_soon": _("Đến hạn trong 2 ngày làm việc"),
    "overdue": _("Quá hạn"),
}


def worklist_filter(key, user, today=None):
    today = today or timezone.localdate()
    officer = officer_of(user)
    if key == "mine":
        return Q(current_officer=officer) & ~Q(status__in=(Status.RETURNED, Status.REFUSED, Status.WITHDRAWN))
    if key == "department":
        return Q(current_department=getattr(officer, "department", None)) & Q(
            status__in=(*RUNNING, Status.SUPPLEMENT, Status.RESULT_READY, Status.REGISTERED)
        )
    if key == "supplement":
        return Q(status=Status.SUPPLEMENT)
    if key == "due_soon":
        return Q(status__in=RUNNING, due_date__gte=today, due_date__lte=due_soon_limit(today))
    if key == "overdue":
        return Q(status__in=RUNNING, due_date__lt=today)
    raise KeyError(key)


def worklist_counts(user, today=None):
    base = visible_dossiers(user)
    return {key: base.filter(worklist_filter(key, user, today)).count() for key in WORKLISTS}
