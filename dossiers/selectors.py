"""Queries that pages share: what an officer may see, and the worklists."""

import json

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import workflow
from .calendars import current_calendar
from .models import Channel, Dossier, Status

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


# Each role's worklists, the first being where the role lands on the dossier list. An officer of
# a one-stop-shop department is at the counter; one who may sign results is a leader; any other
# officer who processes dossiers is a specialist. Someone with two places (a counter leader) gets both.
RECEPTION_WORKLISTS = ("registered", "result_ready", "overdue", "due_soon", "supplement")
SPECIALIST_WORKLISTS = ("mine", "department", "supplement")
LEADER_WORKLISTS = ("to_sign", "department_overdue")
# Province admins and other accounts without a counter or department of their own: the whole province's alarms.
OVERSIGHT_WORKLISTS = ("overdue", "due_soon")
# What makes an officer a specialist: the right to move a dossier on (every role that processes dossiers has it).
WORKS_ON_DOSSIERS = "dossiers.hand_over_dossier"

WORKLISTS = {
    "registered": _("Chờ tiếp nhận"),
    "result_ready": _("Chờ trả kết quả"),
    "overdue": _("Quá hạn"),
    "due_soon": _("Đến hạn trong 2 ngày làm việc"),
    "mine": _("Hồ sơ tôi đang giữ"),
    "department": _("Hồ sơ của phòng ban tôi"),
    "supplement": _("Chờ bổ sung"),
    "to_sign": _("Chờ ký duyệt"),
    "department_overdue": _("Quá hạn tại phòng ban tôi"),
}

NOTHING = Q(pk__isnull=True)  # no row (a plain SQL condition, also inside an aggregate's FILTER)


def is_counter(officer) -> bool:
    """An officer of a reception point (one-stop shop)."""
    return officer is not None and officer.department.is_reception


def is_leader(user) -> bool:
    return user.has_perm(workflow.LEADER_PERMISSION)


def worklists_for(user) -> tuple[str, ...]:
    """The worklists of this user's role(s), the main one first."""
    officer = officer_of(user)
    keys = []
    if officer is not None and officer.department.is_reception:
        keys += RECEPTION_WORKLISTS
    if officer is not None and is_leader(user):
        keys += LEADER_WORKLISTS
    if officer is not None and not keys and user.has_perm(WORKS_ON_DOSSIERS):
        keys += SPECIALIST_WORKLISTS
    if not keys and user.has_perm("dossiers.view_all_dossiers"):
        keys += OVERSIGHT_WORKLISTS  # a province admin: no counter, no department work of their own
    return tuple(dict.fromkeys(keys))


def signable_statuses():
    """Where a result can be signed: the sources of the leader's "Duyệt kết quả" in the workflow table."""
    return tuple(workflow.ACTIONS["mark_result_ready"].sources)


def worklist_filter(key, user, today=None):
    """The condition of worklist `key` for `user` (applied on top of what the user may see)."""
    today = today or timezone.localdate()
    officer = officer_of(user)
    department_id = officer.department_id if officer is not None else None
    mine = Q(current_department_id=department_id) if department_id is not None else NOTHING
    # A counter officer serves one reception point: what waits for the counter is that point's (the
    # dossiers received there, or whose citizen chose it online): results are returned where the
    # dossier was handed in (workflow's "counter" performer). Others (admins) see every point's.
    at_point = Q(reception_point_id=department_id) if is_counter(officer) else Q()
    if key == "registered":  # applied online or by post, waiting for the counter to accept or refuse
        return Q(status=Status.REGISTERED, channel__in=(Channel.ONLINE, Channel.POSTAL)) & at_point
    if key == "result_ready":  # signed, waiting for the counter to hand the result over
        return Q(status=Status.RESULT_READY) & at_point
    if key == "overdue":
        return Q(status__in=RUNNING, due_date__lt=today)
    if key == "due_soon":
        return Q(status__in=RUNNING, due_date__gte=today, due_date__lte=due_soon_limit(today))
    if key == "mine":
        if officer is None:
            return NOTHING
        return Q(current_officer=officer, status__in=workflow.OPEN_STATUSES)
    if key == "department":  # what the department is working on (not online registrations before acceptance)
        return mine & Q(status__in=(*RUNNING, Status.SUPPLEMENT))
    if key == "supplement":
        # The citizen brings the papers to the holding department or to the counter (the workflow's
        # performers of "receive_supplement"): the counter waits for every department's.
        if is_counter(officer):
            return Q(status=Status.SUPPLEMENT) & at_point
        return mine & Q(status=Status.SUPPLEMENT)
    if key == "to_sign":
        # Handed to this leader (a specialist's "Chuyển xử lý" to the leader, within the department),
        # in a status a result can be signed from.
        if officer is None or not is_leader(user):
            return NOTHING
        return mine & Q(current_officer=officer, status__in=signable_statuses())
    if key == "department_overdue":
        return mine & Q(status__in=RUNNING, due_date__lt=today)
    raise KeyError(key)


def worklist_counts(user, today=None, keys=None):
    """{key: count} for `keys` (default every worklist), in one query over what the user may see.

    Each count is its own scalar subquery, so that each uses the index matching its worklist's
    condition (a worklist is a small slice of open dossiers): one aggregate with a FILTER per
    worklist would read every row the user may see, a million in a large province.
    """
    keys = tuple(WORKLISTS if keys is None else keys)
    if not keys:
        return {}
    today = today or timezone.localdate()
    visible = visible_dossiers(user).order_by()
    parts, params = [], []
    for key in keys:
        try:
            sql, key_params = visible.filter(worklist_filter(key, user, today)).values("pk").query.sql_with_params()
        except EmptyResultSet:  # nothing visible at all (qs.none())
            parts.append("0")
            continue
        # `sql` is the ORM's compiled query: its values stay in `key_params`.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS worklist)")  # noqa: S608
        params.extend(key_params)
    with connections[visible.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return dict(zip(keys, cursor.fetchone(), strict=True))


def estimated_count(queryset) -> int:
    """The planner's estimate of how many rows `queryset` has (EXPLAIN: nothing is read).

    For counts that would read a large part of a large table (the whole dossier list of a province
    holding a million); the statistics are kept by autovacuum's ANALYZE.
    """
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
