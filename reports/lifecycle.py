"""A dossier's life in local days, computed in Python from its row and its supplement requests: the
one place both the direct count (indicators.figures_direct) and the aggregates' contributions
(figures.contribution) read the clock from, so the two cannot disagree.

A day ``d`` "is" in a state when the dossier is in it at the end of that day (local dates,
Asia/Ho_Chi_Minh). A datetime ``t`` falls on or before day ``d`` iff ``t < day_start(d + 1)``.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dossiers import deadlines
from dossiers.models import Dossier, DossierEvent

ONE_DAY = timedelta(days=1)
# A dossier is taken in at a reception point by one of these events (ratings.services.INTAKE_ACTIONS).
INTAKE_ACTIONS = ("receive", "accept")


def day_start(d: date) -> datetime:
    """Midnight at the start of local day `d` (aware)."""
    return datetime.combine(d, time(0), tzinfo=deadlines.VN_TZ)


def local_day(t: datetime | None) -> date | None:
    return deadlines.local_date(t) if t is not None else None


# --- the reception point ------------------------------------------------------------------------


def reception_point_id(dossier: Dossier, events=None) -> int | None:
    """The reception point that received the dossier: the department its intake event (receive or
    accept) took it to; for a dossier refused at intake, the refusing officer's department; without
    either, the receiving officer's department. Ratings keep the same (ratings.services._context).

    Since issue 15 a dossier records its point (``Dossier.reception_point``, set at intake and never
    changed): that is the answer; the events are read only for a row that has none."""
    if getattr(dossier, "reception_point_id", None) is not None:
        return dossier.reception_point_id
    if events is None:
        events = DossierEvent.objects.filter(dossier_id=dossier.pk, action__in=(*INTAKE_ACTIONS, "refuse"))
        events = events.select_related("actor").order_by("created_at", "id")
    events = list(events)
    intake = next((e for e in events if e.action in INTAKE_ACTIONS and e.to_department_id), None)
    if intake is not None:
        return intake.to_department_id
    refusal = next((e for e in events if e.action == "refuse" and e.actor_id), None)
    if refusal is not None:
        return refusal.actor.department_id
    if dossier.received_by_id:
        return dossier.received_by.department_id
    return None


# --- the clock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    requested_at: datetime
    received_at: datetime | None


def pauses_of(dossier: Dossier) -> list[Pause]:
    rows = dossier.supplement_requests.order_by("requested_at", "id").values_list("requested_at", "received_at")
    return with_open_pause(dossier, [Pause(a, b) for a, b in rows])


def with_open_pause(dossier: Dossier, pauses: list[Pause]) -> list[Pause]:
    """The pauses, plus the dossier's own open pause (`paused_at`) if no open request records it (rows
    loaded in bulk without their requests)."""
    pauses = sorted(pauses, key=lambda p: p.requested_at)
    if dossier.paused_at is not None and not any(p.received_at is None for p in pauses):
        pauses.append(Pause(dossier.paused_at, None))
    return pauses


def processing_days(dossier: Dossier, pauses: list[Pause], calendar, cutoff=None) -> int | None:
    """Working days after the clock's start day up to the result day, minus the working days the
    clock was stopped for each received supplement; None for a dossier not done."""
    if dossier.result_ready_at is None or dossier.accepted_at is None:
        return None
    start = deadlines.receipt_start_date(dossier.accepted_at, calendar, cutoff or deadlines.default_cutoff())
    days = calendar.working_days_between(start, local_day(dossier.result_ready_at))
    for pause in pauses:
        if pause.received_at is not None:
            days -= deadlines.stopped_working_days(pause.requested_at, pause.received_at, calendar, clock_start=start)
    return max(days, 0)


def end_day(dossier: Dossier) -> date | None:
    """The first day at whose end the dossier is no longer open (done or closed); None: still open."""
    ends = [d for d in (local_day(dossier.result_ready_at), local_day(dossier.closed_at)) if d is not None]
    return min(ends) if ends else None


def due_changes(dossier: Dossier, pauses: list[Pause], calendar) -> list[tuple[date, date]]:
    """[(from day, legal due date)]: the due date in force at the end of each day from `from day` on.

    The first is the due date set at intake (original_appointment_date); each received supplement
    moves it (deadlines.resume_clock, replayed with the procedure's rule); the last is the dossier's
    own due_date."""
    if dossier.accepted_at is None or dossier.due_date is None:
        return []
    received = [p for p in pauses if p.received_at is not None]
    due = dossier.original_appointment_date or dossier.due_date
    changes = [(local_day(dossier.accepted_at), due)]
    procedure = dossier.procedure
    for i, pause in enumerate(received):
        if i == len(received) - 1:
            due = dossier.due_date
        else:
            due = deadlines.resume_clock(
                pause.requested_at,
                pause.received_at,
                due=due,
                appointment=None,
                processing_days=procedure.processing_days,
                mode=procedure.on_supplement,
                calendar=calendar,
                cutoff=deadlines.default_cutoff(),
            ).due
        changes.append((local_day(pause.received_at), due))
    if len(changes) == 1:
        changes[0] = (changes[0][0], dossier.due_date)
    return changes


def due_at(changes: list[tuple[date, date]], day: date) -> date | None:
    current = None
    for start, due in changes:
        if start <= day:
            current = due
    return current


def _paused_intervals(pauses: list[Pause]) -> list[tuple[date, date | None]]:
    """Merged [first day, end day) of the days ending in a pause (end None: still paused)."""
    spans = []
    for p in pauses:
        a, b = local_day(p.requested_at), local_day(p.received_at)
        if b is not None and b <= a:
            continue  # requested and received the same day: never paused at a day's end
        spans.append((a, b))
    spans.sort(key=lambda s: s[0])
    merged: list[list] = []
    for a, b in spans:
        if merged and (merged[-1][1] is None or a <= merged[-1][1]):
            if merged[-1][1] is not None and (b is None or b > merged[-1][1]):
                merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def stock_intervals(dossier: Dossier, pauses: list[Pause], calendar) -> dict[str, list[tuple[date, date | None]]]:
    """The days at whose end the dossier is in each stock: {"open"|"paused"|"within"|"late":
    [(first day, end day exclusive or None)]}. Open: accepted and neither done nor closed; paused:
    open and waiting for a supplement; within / late: open, not paused, and its due date in force
    not passed / passed (late on day d iff d > due)."""
    out = {"open": [], "paused": [], "within": [], "late": []}
    if dossier.accepted_at is None:
        return out
    start, end = local_day(dossier.accepted_at), end_day(dossier)
    if end is not None and end <= start:
        return out
    out["open"].append((start, end))

    def clip(a, b):
        a = max(a, start)
        if end is not None:
            b = end if b is None else min(b, end)
        return (a, b) if b is None or a < b else None

    paused = [c for c in (clip(a, b) for a, b in _paused_intervals(pauses)) if c]
    out["paused"] = paused
    # Running spans: open minus paused.
    running, cursor = [], start
    for a, b in paused:
        if cursor < a:
            running.append((cursor, a))
        cursor = b
        if cursor is None:
            break
    if cursor is not None and (end is None or cursor < end):
        running.append((cursor, end))
    changes = due_changes(dossier, pauses, calendar)
    # Split running spans at each change of the due date, then at due + 1.
    bounds = [d for d, _due in changes[1:]]
    for a, b in running:
        pieces, cut = [], a
        for d in bounds:
            if cut < d and (b is None or d < b):
                pieces.append((cut, d))
                cut = d
        pieces.append((cut, b))
        for pa, pb in pieces:
            due = due_at(changes, pa)
            late_from = due + ONE_DAY
            if pb is not None and pb <= late_from:
                out["within"].append((pa, pb))
            elif late_from <= pa:
                out["late"].append((pa, pb))
            else:
                out["within"].append((pa, late_from))
                out["late"].append((late_from, pb))
    return out


def stock_on(intervals: dict, key: str, day: date) -> bool:
    return any(a <= day and (b is None or day < b) for a, b in intervals[key])
