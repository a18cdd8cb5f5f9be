"""What a province is judged on (Decision 766), as numbers for a scope: the one place that says what
each indicator means. The dashboard, the periodic report, its Excel file, the national view and the
click-through to the dossiers behind a number all derive from here.

Definitions (local dates, Asia/Ho_Chi_Minh; a period is [start, end], both days included):

- **received** (tiếp nhận mới): dossiers accepted in the period (``accepted_at``), split by channel
  (counter / online / postal). Online registrations not yet accepted are not received.
- **carried_over** (kỳ trước chuyển sang): accepted before ``start`` and neither done nor closed before
  ``start``.
- **refused** (không tiếp nhận): refused at intake in the period.
- **done_early / done_on_time / done_late**: result ready (``result_ready_at``) in the period, by the
  dossier's grade (its result date against its legal due date).
- **withdrawn / stopped**: closed in the period by withdrawal or by stopping (``closed_at``).
- **in_progress_within / in_progress_late**: at the end of the period (or today, if the period has not
  ended), accepted, not done nor closed, not waiting for a supplement, and the legal due date not yet
  passed / passed.
- **paused**: at the same moment, waiting for the citizen's supplement (the clock stopped).
- **processing days** of a dossier done in the period: working days after its clock's start day up to
  its result day, minus the working days its clock was stopped for supplements (deadlines.py);
  ``avg_days`` and ``p90_days`` are over the dossiers done in the period.
- **ratings / satisfied / complaints / complaints_answered**: ratings first given in the period, those
  of 4–5 stars, those that need an answer, and of these the answered ones.
- **messages_sent / messages_failed**: citizen messages (notifications) sent in the period, and those
  given up as failed in the period.

Dimensions: the reception point that received the dossier (today a reception department; issue 15
brings reception points), the department that handles the procedure (``procedure.department``) and
the procedure.
"""

import math
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.calendars import current_calendar
from dossiers.models import (
    RUNNING_STATUSES,
    Channel,
    Dossier,
    DossierEvent,
    Grade,
    Procedure,
    Status,
    SupplementRequest,
)
from notifications.models import Notification
from notifications.models import State as NotificationState
from offices.models import Department
from ratings.models import Rating

from . import lifecycle

ONE_DAY = timedelta(days=1)
SATISFIED_SCORE = 4  # 4–5 stars


@dataclass(frozen=True)
class Scope:
    """What the figures are about: a period and optional filters (None: all)."""

    start: date
    end: date  # included
    point: int | None = None  # the receiving reception department's id
    department: int | None = None  # the handling department's id (procedure.department)
    procedure: int | None = None


@dataclass
class Figures:
    carried_over: int = 0
    received: int = 0
    received_counter: int = 0
    received_online: int = 0
    received_postal: int = 0
    refused: int = 0
    done_early: int = 0
    done_on_time: int = 0
    done_late: int = 0
    withdrawn: int = 0
    stopped: int = 0
    in_progress_within: int = 0
    in_progress_late: int = 0
    paused: int = 0
    avg_days: float | None = None
    p90_days: int | None = None
    ratings: int = 0
    satisfied: int = 0
    complaints: int = 0
    complaints_answered: int = 0
    messages_sent: int = 0
    messages_failed: int = 0
    # processing days of the dossiers done: {working days: how many}, from which avg and p90 come
    durations: dict = field(default_factory=dict, repr=False)

    @property
    def done(self) -> int:
        return self.done_early + self.done_on_time + self.done_late

    @property
    def to_handle(self) -> int:
        """Tổng số phải giải quyết: carried over + received."""
        return self.carried_over + self.received

    @property
    def on_time_share(self) -> float | None:
        """Share of the done dossiers done early or on time (None when nothing was done)."""
        return (self.done_early + self.done_on_time) / self.done if self.done else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    def counts(self) -> dict:
        """The integer indicators by key (what tests compare and the click-through links name)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int" or f.type is int}


# The indicators a number on a page may click through to (dossiers_behind), with their labels.
LABELS = {
    "carried_over": _("Kỳ trước chuyển sang"),
    "received": _("Tiếp nhận mới"),
    "received_counter": _("Trực tiếp"),
    "received_online": _("Trực tuyến"),
    "received_postal": _("Qua bưu chính"),
    "refused": _("Không tiếp nhận"),
    "done_early": _("Trước hạn"),
    "done_on_time": _("Đúng hạn"),
    "done_late": _("Trễ hạn"),
    "withdrawn": _("Rút hồ sơ"),
    "stopped": _("Dừng xử lý"),
    "in_progress_within": _("Đang giải quyết trong hạn"),
    "in_progress_late": _("Đang giải quyết quá hạn"),
    "paused": _("Chờ bổ sung"),
}


def figures(scope: Scope) -> Figures:
    """The figures of a scope from the aggregates kept by the dossier events (fast at a million)."""
    from . import figures as kept

    return kept.figures(scope)


def figures_direct(scope: Scope) -> Figures:
    """The same figures counted over the raw rows: the reference the aggregates are checked against."""
    return _direct(scope)


@dataclass
class Row:
    key: object  # a department/procedure/point id, a field name, or a week's Monday
    label: str
    figures: Figures


BREAKDOWNS = ("department", "procedure", "point", "field", "week")


def breakdown(scope: Scope, by: str) -> list[Row]:
    """The figures of a scope split by "department", "procedure", "point", "field" (procedure.field)
    or "week" (weeks starting on Monday, within the period); rows in a stable order."""
    from . import figures as kept

    return kept.breakdown(scope, by)


def breakdown_direct(scope: Scope, by: str) -> list[Row]:
    """`breakdown` counted over the raw rows (the reference). Rows with nothing to show are left out."""
    if by not in BREAKDOWNS:
        raise ValueError(f"Unknown breakdown {by!r}")
    rows = []
    for key, label, sub, procedures in _parts(scope, by):
        result = _direct(sub, procedures)
        if not is_empty(result):
            rows.append(Row(key, label, result))
    return rows


def dossiers_behind(scope: Scope, key: str):
    """The Dossier queryset a number of `figures(scope)` counts (a LABELS key)."""
    if key not in LABELS:
        raise ValueError(f"Unknown indicator {key!r}")
    return Dossier.objects.filter(_dims_q(scope) & dossier_q(scope, key))


# --- the definitions over the raw rows ----------------------------------------------------------

DOSSIER_KEYS = tuple(LABELS)
FLOW_KEYS = (
    "received",
    "received_counter",
    "received_online",
    "received_postal",
    "refused",
    "done_early",
    "done_on_time",
    "done_late",
    "withdrawn",
    "stopped",
)
STOCK_KEYS = ("in_progress_within", "in_progress_late", "paused")
CHANNEL_KEYS = {
    "received_counter": Channel.COUNTER,
    "received_online": Channel.ONLINE,
    "received_postal": Channel.POSTAL,
}
GRADE_KEYS = {"done_early": Grade.EARLY, "done_on_time": Grade.ON_TIME, "done_late": Grade.LATE}
CLOSED_KEYS = {"refused": Status.REFUSED, "withdrawn": Status.WITHDRAWN, "stopped": Status.STOPPED}
STOCK_OF_KEY = {"in_progress_within": "within", "in_progress_late": "late", "paused": "paused"}


def today() -> date:
    return timezone.localdate()


def stock_day(scope: Scope) -> date:
    """The day at whose end the stocks are counted: the period's end, or today if it has not ended."""
    return min(scope.end, today())


def _in_period(field_name, scope):
    lo, hi = lifecycle.day_start(scope.start), lifecycle.day_start(scope.end + ONE_DAY)
    return Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})


def point_q(point_id, prefix="") -> Q:
    """Dossiers received at reception point `point_id` (lifecycle.reception_point_id, as SQL); with
    `prefix` ("dossier__"), rows whose dossier was."""
    ref = "pk" if not prefix else prefix.removesuffix("__") + "_id"
    intake = DossierEvent.objects.filter(
        dossier_id=OuterRef(ref), action__in=lifecycle.INTAKE_ACTIONS, to_department_id=point_id
    )
    any_intake = DossierEvent.objects.filter(
        dossier_id=OuterRef(ref), action__in=lifecycle.INTAKE_ACTIONS, to_department__isnull=False
    )
    refusal = DossierEvent.objects.filter(dossier_id=OuterRef(ref), action="refuse", actor__department_id=point_id)
    any_refusal = DossierEvent.objects.filter(dossier_id=OuterRef(ref), action="refuse", actor__isnull=False)
    without_point = (
        Q(Exists(intake))
        | (~Q(Exists(any_intake)) & Q(Exists(refusal)))
        | (~Q(Exists(any_intake)) & ~Q(Exists(any_refusal)) & Q(**{f"{prefix}received_by__department_id": point_id}))
    )
    # The dossier's own point (issue 15) where it has one; the events only for a row without it.
    return Q(**{f"{prefix}reception_point_id": point_id}) | (
        Q(**{f"{prefix}reception_point__isnull": True}) & without_point
    )


def _dims_q(scope: Scope, prefix="", procedures=None) -> Q:
    q = Q()
    if scope.point is not None:
        q &= point_q(scope.point, prefix)
    if scope.department is not None:
        q &= Q(**{f"{prefix}procedure__department_id": scope.department})
    if scope.procedure is not None:
        q &= Q(**{f"{prefix}procedure_id": scope.procedure})
    if procedures is not None:
        q &= Q(**{f"{prefix}procedure_id__in": list(procedures)})
    return q


def _ever_paused() -> Q:
    return Q(Exists(SupplementRequest.objects.filter(dossier_id=OuterRef("pk")))) | Q(paused_at__isnull=False)


def dossier_q(scope: Scope, key: str) -> Q:
    """The one definition of each dossier-count indicator, as a condition on Dossier."""
    if key == "received" or key in CHANNEL_KEYS:
        q = _in_period("accepted_at", scope)
        return q & Q(channel=CHANNEL_KEYS[key]) if key in CHANNEL_KEYS else q
    if key in GRADE_KEYS:
        return _in_period("result_ready_at", scope) & Q(grade=GRADE_KEYS[key])
    if key in CLOSED_KEYS:
        return _in_period("closed_at", scope) & Q(status=CLOSED_KEYS[key])
    if key == "carried_over":
        lo = lifecycle.day_start(scope.start)
        return (
            Q(accepted_at__lt=lo)
            & (Q(result_ready_at__isnull=True) | Q(result_ready_at__gte=lo))
            & (Q(closed_at__isnull=True) | Q(closed_at__gte=lo))
        )
    if key in STOCK_KEYS:
        return _stock_q(scope, key)
    raise ValueError(f"Unknown indicator {key!r}")


def _stock_q(scope: Scope, key: str) -> Q:
    day = stock_day(scope)
    if day >= today():
        # Now: the live statuses (the worklists' partial indexes).
        if key == "paused":
            return Q(status=Status.SUPPLEMENT)
        running = Q(status__in=RUNNING_STATUSES)
        return running & (Q(due_date__gte=day) if key == "in_progress_within" else Q(due_date__lt=day))
    # At the end of a past day: dossiers open then. Those never paused kept their due date; the others'
    # clock is replayed (lifecycle.stock_intervals).
    hi = lifecycle.day_start(day + ONE_DAY)
    open_then = (
        Q(accepted_at__lt=hi)
        & (Q(result_ready_at__isnull=True) | Q(result_ready_at__gte=hi))
        & (Q(closed_at__isnull=True) | Q(closed_at__gte=hi))
    )
    replayed = _replayed_ids(open_then, day, STOCK_OF_KEY[key])
    if key == "paused":
        return Q(pk__in=replayed)
    simple = open_then & ~_ever_paused()
    simple &= Q(due_date__gte=day) if key == "in_progress_within" else Q(due_date__lt=day)
    return simple | Q(pk__in=replayed)


def _replayed_ids(open_then: Q, day: date, stock: str) -> list[int]:
    calendar = current_calendar()
    ids = []
    candidates = (
        Dossier.objects.filter(open_then & _ever_paused())
        .select_related("procedure")
        .prefetch_related("supplement_requests")
        .order_by("pk")
    )
    for dossier in candidates.iterator(chunk_size=2000):
        pauses = lifecycle.with_open_pause(
            dossier, [lifecycle.Pause(r.requested_at, r.received_at) for r in dossier.supplement_requests.all()]
        )
        if lifecycle.stock_on(lifecycle.stock_intervals(dossier, pauses, calendar), stock, day):
            ids.append(dossier.pk)
    return ids


def durations_of(dossiers) -> dict[int, int]:
    """{processing days: how many} over done dossiers (lifecycle.processing_days)."""
    calendar = current_calendar()
    out: dict[int, int] = {}
    for dossier in dossiers.prefetch_related("supplement_requests").iterator(chunk_size=2000):
        pauses = [lifecycle.Pause(r.requested_at, r.received_at) for r in dossier.supplement_requests.all()]
        days = lifecycle.processing_days(dossier, pauses, calendar)
        if days is not None:
            out[days] = out.get(days, 0) + 1
    return out


def set_durations(result: Figures, durations: dict[int, int]):
    """avg (1 decimal) and p90 (nearest rank) from {days: how many}."""
    durations = {int(d): int(n) for d, n in durations.items() if n}
    result.durations = dict(sorted(durations.items()))
    total = sum(durations.values())
    if not total:
        result.avg_days, result.p90_days = None, None
        return
    result.avg_days = round(sum(d * n for d, n in durations.items()) / total, 1)
    rank, seen = math.ceil(0.9 * total), 0
    for d in sorted(durations):
        seen += durations[d]
        if seen >= rank:
            result.p90_days = d
            break


def rating_q(scope: Scope, procedures=None) -> Q:
    q = _in_period("first_given_at", scope)
    if scope.point is not None:
        q &= Q(reception_point_id=scope.point)
    if scope.department is not None:
        q &= Q(department_id=scope.department)
    if scope.procedure is not None:
        q &= Q(procedure_id=scope.procedure)
    if procedures is not None:
        q &= Q(procedure_id__in=list(procedures))
    return q


def message_q(scope: Scope, procedures=None) -> Q:
    return _in_period("state_changed_at", scope) & _dims_q(scope, prefix="dossier__", procedures=procedures)


def _direct(scope: Scope, procedures=None) -> Figures:
    result = Figures()
    dims = _dims_q(scope, procedures=procedures)
    counts = Dossier.objects.filter(dims).aggregate(
        **{key: Count("pk", filter=dossier_q(scope, key)) for key in DOSSIER_KEYS}
    )
    for key, value in counts.items():
        setattr(result, key, value)
    done = Dossier.objects.filter(dims & _in_period("result_ready_at", scope) & ~Q(grade=""))
    set_durations(result, durations_of(done))
    ratings = Rating.objects.filter(rating_q(scope, procedures)).aggregate(
        ratings=Count("pk"),
        satisfied=Count("pk", filter=Q(score__gte=SATISFIED_SCORE)),
        complaints=Count("pk", filter=Q(needs_answer=True)),
        complaints_answered=Count("pk", filter=Q(needs_answer=True, answered_at__isnull=False)),
    )
    messages = Notification.objects.filter(message_q(scope, procedures)).aggregate(
        messages_sent=Count("pk", filter=Q(state=NotificationState.SENT)),
        messages_failed=Count("pk", filter=Q(state=NotificationState.FAILED)),
    )
    for key, value in {**ratings, **messages}.items():
        setattr(result, key, value)
    return result


def is_empty(result: Figures) -> bool:
    return not any(result.counts().values()) and not result.durations


# --- the parts of a breakdown -------------------------------------------------------------------


def weeks(scope: Scope):
    """(Monday, first day, last day) of each week of the period (Monday to Sunday, clipped)."""
    monday = scope.start - timedelta(days=scope.start.weekday())
    while monday <= scope.end:
        yield monday, max(monday, scope.start), min(monday + timedelta(days=6), scope.end)
        monday += timedelta(days=7)


def week_label(first: date, last: date) -> str:
    return f"{first:%d/%m/%Y} – {last:%d/%m/%Y}"


def field_label(name: str) -> str:
    return name or str(_("Chưa phân lĩnh vực"))


def _parts(scope: Scope, by: str):
    """(key, label, sub-scope, procedure ids or None) of each candidate row, in the rows' order."""
    if by == "week":
        for monday, first, last in weeks(scope):
            yield monday, week_label(first, last), replace(scope, start=first, end=last), None
    elif by == "department":
        for dept in Department.objects.order_by("name", "pk"):
            if scope.department in (None, dept.pk):
                yield dept.pk, str(dept.name), replace(scope, department=dept.pk), None
    elif by == "procedure":
        for proc in Procedure.objects.order_by("name", "pk"):
            if scope.procedure in (None, proc.pk):
                yield proc.pk, proc.name, replace(scope, procedure=proc.pk), None
    elif by == "point":
        for dept in Department.objects.order_by("name", "pk"):
            if scope.point in (None, dept.pk):
                yield dept.pk, str(dept.name), replace(scope, point=dept.pk), None
    elif by == "field":
        by_field: dict[str, list[int]] = {}
        for pk, name in Procedure.objects.values_list("pk", "field"):
            by_field.setdefault(name, []).append(pk)
        for name in sorted(by_field):
            yield name, field_label(name), scope, by_field[name]
