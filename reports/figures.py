"""The aggregates: kept from the dossier events, ratings and messages; read by the dashboard.

Writing. ``contribution(kind, obj)`` is a pure function of a source row's current state (a dossier, a
rating, a message) → the Figure entries it contributes. ``refresh(kind, pk)``, called inside the
transaction that changed the source, locks the source's `Contribution` row, recomputes, and applies
only the difference — appended to `FigureDelta` (no counter row is locked while the transaction is
open), which ``fold`` adds into `Figure` every minute (``INSERT … ON CONFLICT … DO UPDATE SET
n = n + excluded.n``); readers sum both. Calling refresh twice, late, or out of order changes nothing
more: it converges to the current state. ``rebuild`` recomputes a province in batches
the same way (or from scratch with ``reset``); ``reconcile`` re-reads the messages whose state changed
since a watermark (their refresh runs in a savepoint: statistics never stop a message).

Reading. Flows (received, done, ratings, messages …) are summed over the period's days. Stocks (open,
within, late, paused) are kept as +1 on the first day of each span and −1 on the day after its last
(those days may lie in the future: a dossier turns late the day after its due date), plus the total
of every open-ended span on ``TOTAL_DAY``: the value at the end of day X is
``total − Σ deltas after X``, which reads only the days from X on, never the history before it.
"""

import bisect
import json
import logging
from collections import defaultdict
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from dossiers import deadlines
from dossiers.calendars import current_calendar
from dossiers.models import Dossier, Procedure, Status
from egov.compiled import prepared_statements
from notifications.models import Notification
from notifications.models import State as NotificationState
from offices.models import Department
from ratings.models import Rating

from . import indicators, lifecycle
from .indicators import Figures, Row, Scope
from .models import DAY, MONTH, NONE, WEEK, Contribution

logger = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)
TOTAL_DAY = date(9999, 12, 31)
TOTAL_ISO = TOTAL_DAY.isoformat()
DOSSIER, RATING, MESSAGE = "dossier", "rating", "message"
KINDS = (DOSSIER, RATING, MESSAGE)

STOCKS = ("open", "within", "late", "paused")
STOCK_FIELDS = {"within": "in_progress_within", "late": "in_progress_late", "paused": "paused"}
CLOSED = {Status.REFUSED: "refused", Status.WITHDRAWN: "withdrawn", Status.STOPPED: "stopped"}
RECEIVED_BY_CHANNEL = {1: "received_counter", 2: "received_online", 3: "received_postal"}
FLOWS = (
    "received",
    "refused",
    "withdrawn",
    "stopped",
    "done_early",
    "done_on_time",
    "done_late",
    "days",
    "ratings",
    "satisfied",
    "complaints",
    "complaints_answered",
    "messages_sent",
    "messages_failed",
)
# An entry: (measure, day, point, department, procedure, channel, days bucket) → n
ENTRY_FIELDS = ("measure", "day", "point_id", "department_id", "procedure_id", "channel", "days")
# A counter's key: the entry's, with its span (the day's row, its month's, its week's).
KEY_FIELDS = ("span", *ENTRY_FIELDS)


# --- contributions (pure) -----------------------------------------------------------------------


def _add(out, measure, day, dims, n=1, channel=NONE, days=-1):
    key = (measure, day.isoformat(), dims[0] or NONE, dims[1] or NONE, dims[2] or NONE, channel, days)
    out[key] = out.get(key, 0) + n


def dossier_entries(dossier: Dossier, point_id, pauses, calendar, cutoff=None) -> dict:
    out: dict = {}
    dims = (point_id, dossier.procedure.department_id, dossier.procedure_id)
    day = lifecycle.local_day
    if dossier.accepted_at is not None:
        _add(out, "received", day(dossier.accepted_at), dims, channel=dossier.channel)
    if dossier.status in CLOSED and dossier.closed_at is not None:
        _add(out, CLOSED[dossier.status], day(dossier.closed_at), dims)
    if dossier.result_ready_at is not None and dossier.grade:
        _add(out, "done_" + dossier.grade, day(dossier.result_ready_at), dims)
        days = lifecycle.processing_days(dossier, pauses, calendar, cutoff)
        if days is not None:
            _add(out, "days", day(dossier.result_ready_at), dims, days=days)
    for measure, spans in lifecycle.stock_intervals(dossier, pauses, calendar).items():
        for first, end in spans:
            _add(out, measure, first, dims)
            _add(out, measure, end or TOTAL_DAY, dims, n=-1 if end else 1)
    return {k: n for k, n in out.items() if n}


def rating_entries(rating: Rating) -> dict:
    out: dict = {}
    dims = (rating.reception_point_id, rating.department_id, rating.procedure_id)
    day = lifecycle.local_day(rating.first_given_at)
    _add(out, "ratings", day, dims)
    if rating.score >= indicators.SATISFIED_SCORE:
        _add(out, "satisfied", day, dims)
    if rating.needs_answer:
        _add(out, "complaints", day, dims)
        if rating.answered_at is not None:
            _add(out, "complaints_answered", day, dims)
    return out


def message_entries(message: Notification, point_id) -> dict:
    out: dict = {}
    measure = {NotificationState.SENT: "messages_sent", NotificationState.FAILED: "messages_failed"}.get(message.state)
    if measure and message.state_changed_at is not None:
        procedure = message.dossier.procedure
        dims = (point_id, procedure.department_id, procedure.pk)
        _add(out, measure, lifecycle.local_day(message.state_changed_at), dims)
    return out


def contribution(kind, obj) -> dict:
    """The entries `obj` (a Dossier, Rating or Notification, or None: gone) contributes now."""
    if obj is None:
        return {}
    if kind == DOSSIER:
        return dossier_entries(obj, lifecycle.reception_point_id(obj), lifecycle.pauses_of(obj), current_calendar())
    if kind == RATING:
        return rating_entries(obj)
    if kind == MESSAGE:
        return message_entries(obj, lifecycle.reception_point_id(obj.dossier))
    raise ValueError(kind)


def _load(kind, pk):
    if kind == DOSSIER:
        return Dossier.objects.select_related("procedure", "received_by").filter(pk=pk).first()
    if kind == RATING:
        return Rating.objects.filter(pk=pk).first()
    return Notification.objects.select_related("dossier__procedure", "dossier__received_by").filter(pk=pk).first()


# --- applying -----------------------------------------------------------------------------------


def _as_dict(entries) -> dict:
    return {tuple(e[:-1]): e[-1] for e in entries or ()}


def _as_list(entries: dict) -> list:
    return [[*k, n] for k, n in sorted(entries.items())]


# Transactions append their differences (no counter row is locked while a dossier's transaction is
# open: two intakes of one procedure on one day never wait for each other); `fold` adds them up.
_UPSERT = """
    INSERT INTO reports_figuredelta (span, measure, day, point_id, department_id, procedure_id, channel, days, n)
    SELECT * FROM unnest(%s::smallint[], %s::text[], %s::date[], %s::int[], %s::int[], %s::int[],
                         %s::smallint[], %s::smallint[], %s::bigint[])
"""
# Every counter with its differences not folded yet: what readers sum (one statement, one snapshot).
_ROWS = """(
    SELECT span, measure, day, point_id, department_id, procedure_id, channel, days, n FROM reports_figure
    UNION ALL
    SELECT span, measure, day, point_id, department_id, procedure_id, channel, days, n FROM reports_figuredelta
) AS f"""


def fold() -> int:
    """Move the appended differences into the counters (beat, every minute; also before a rebuild
    finishes). Only committed differences are seen; one fold at a time per province."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':reports.fold'))")
        cursor.execute(
            """
            WITH moved AS (DELETE FROM reports_figuredelta RETURNING *)
            INSERT INTO reports_figure (span, measure, day, point_id, department_id, procedure_id, channel, days, n)
            SELECT span, measure, day, point_id, department_id, procedure_id, channel, days, sum(n) FROM moved
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            ORDER BY 1, 3, 2, 4, 5, 6, 7, 8
            ON CONFLICT (span, day, measure, point_id, department_id, procedure_id, channel, days)
            DO UPDATE SET n = reports_figure.n + excluded.n
            """
        )
        return cursor.rowcount


def _spans(delta: dict) -> dict:
    """Each day's entry also counted in its month's and its week's row (the stocks' total stays alone)."""
    out: dict = defaultdict(int)
    for (measure, day, *rest), n in delta.items():
        out[(DAY, measure, day, *rest)] += n
        if day != TOTAL_ISO:
            d = date.fromisoformat(day)
            out[(MONTH, measure, d.replace(day=1).isoformat(), *rest)] += n
            out[(WEEK, measure, (d - timedelta(days=d.weekday())).isoformat(), *rest)] += n
    return out


def _columns(delta: dict) -> list:
    """The delta as the upsert's arrays, in key order (no deadlock between two appliers)."""
    delta = _spans(delta)
    columns = [[] for _ in KEY_FIELDS] + [[]]
    for key in sorted(delta):
        for i, value in enumerate(key):
            columns[i].append(value)
        columns[-1].append(delta[key])
    return columns


def _apply(delta: dict):
    """Add `delta` to the counters."""
    delta = {k: n for k, n in delta.items() if n}
    if delta:
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT, _columns(delta))


def _lock_contributions(kind, pks) -> dict:
    """Lock (creating them) the contribution rows of these sources, in id order: {pk: entries dict}."""
    pks = sorted(set(pks))
    if not pks:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reports_contribution (kind, object_id, entries, updated_at)
            SELECT %s, id, '[]'::jsonb, clock_timestamp() FROM unnest(%s::bigint[]) AS id ORDER BY id
            ON CONFLICT (kind, object_id) DO NOTHING
            """,
            [kind, pks],
        )
        cursor.execute(
            "SELECT object_id, entries FROM reports_contribution WHERE kind = %s AND object_id = ANY(%s) "
            "ORDER BY object_id FOR UPDATE",
            [kind, pks],
        )
        return {pk: _as_dict(_json(entries)) for pk, entries in cursor}


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _store(kind, new_by_pk: dict):
    if not new_by_pk:
        return
    pks = sorted(new_by_pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE reports_contribution c SET entries = v.entries, updated_at = clock_timestamp()
            FROM unnest(%s::bigint[], %s::jsonb[]) AS v(id, entries)
            WHERE c.kind = %s AND c.object_id = v.id
            """,
            [pks, [json.dumps(_as_list(new_by_pk[pk])) for pk in pks], kind],
        )


def _difference(old: dict, new: dict) -> dict:
    delta: dict = defaultdict(int)
    for key, n in new.items():
        delta[key] += n
    for key, n in old.items():
        delta[key] -= n
    return {k: n for k, n in delta.items() if n}


def _settle(kind, new_by_pk: dict):
    """Lock these sources' contribution rows, apply the difference to the counters, store the new ones."""
    old_by_pk = _lock_contributions(kind, new_by_pk)
    delta: dict = defaultdict(int)
    changed = {}
    for pk, new in new_by_pk.items():
        old = old_by_pk.get(pk, {})
        if old == new:
            continue
        changed[pk] = new
        for key, n in _difference(old, new).items():
            delta[key] += n
    _apply(delta)
    _store(kind, changed)
    return len(changed)


# One statement locks (creating it) a source's contribution row and returns what it contributes now,
# with a dossier's supplement requests; one more applies the difference and stores the new entries.
_LOCK_ONE = """
    INSERT INTO reports_contribution AS c (kind, object_id, entries, updated_at)
    VALUES (%(kind)s, %(pk)s, '[]'::jsonb, clock_timestamp())
    ON CONFLICT (kind, object_id) DO UPDATE SET updated_at = clock_timestamp()
    RETURNING c.entries,
        ARRAY(SELECT requested_at FROM dossiers_supplementrequest WHERE dossier_id = %(dossier)s
              ORDER BY requested_at, id),
        ARRAY(SELECT received_at FROM dossiers_supplementrequest WHERE dossier_id = %(dossier)s
              ORDER BY requested_at, id)
"""
_STORE_ONE = """
    WITH applied AS ({upsert})
    UPDATE reports_contribution SET entries = %s::jsonb WHERE kind = %s AND object_id = %s
"""


def _lock_one(kind, pk):
    with prepared_statements(connection) as cursor:  # run on every intake: parsed and planned once per connection
        cursor.execute(_LOCK_ONE, {"kind": kind, "pk": pk, "dossier": pk if kind == DOSSIER else None})
        entries, requested, received = cursor.fetchone()
    pauses = [lifecycle.Pause(a, b) for a, b in zip(requested, received, strict=True)]
    return _as_dict(_json(entries)), pauses


def _store_one(kind, pk, old: dict, new: dict) -> bool:
    if old == new:
        return False
    delta = _difference(old, new)
    with prepared_statements(connection) as cursor:
        if delta:
            cursor.execute(_STORE_ONE.format(upsert=_UPSERT), [*_columns(delta), json.dumps(_as_list(new)), kind, pk])
        else:
            cursor.execute(
                "UPDATE reports_contribution SET entries = %s::jsonb WHERE kind = %s AND object_id = %s",
                [json.dumps(_as_list(new)), kind, pk],
            )
    return True


def refresh(kind, pk) -> bool:
    """Bring the counters in line with source `pk`'s current state (in the caller's transaction). True if
    anything changed. Idempotent; the source's contribution row serialises concurrent refreshes."""
    with transaction.atomic(savepoint=False):
        old, pauses = _lock_one(kind, pk)  # before reading the source: a refresh in flight commits first
        obj = _load(kind, pk)
        if kind == DOSSIER:
            new = {} if obj is None else _dossier_contribution(obj, pauses, old)
        else:
            new = contribution(kind, obj)
        return _store_one(kind, pk, old, new)


def refresh_dossier(dossier: Dossier, event=None) -> bool:
    """`refresh` of a dossier just changed by a service (the row in hand, locked by the action): two
    statements. The reception point is the dossier's own (issue 15), else the intake event's, else the
    one it already contributes under."""
    with transaction.atomic(savepoint=False):
        old, pauses = _lock_one(DOSSIER, dossier.pk)
        point = ...  # not known yet: _dossier_contribution finds it
        if dossier.reception_point_id is not None:
            point = dossier.reception_point_id
        elif event is not None and event.action in lifecycle.INTAKE_ACTIONS and event.to_department_id:
            point = event.to_department_id
        return _store_one(DOSSIER, dossier.pk, old, _dossier_contribution(dossier, pauses, old, point))


def _dossier_contribution(dossier, pauses, old, point=...):
    if point is ...:
        known = {key[2] for key in old}
        point = (known.pop() or None) if len(known) == 1 else lifecycle.reception_point_id(dossier)
    pauses = lifecycle.with_open_pause(dossier, pauses)
    return dossier_entries(dossier, point, pauses, current_calendar())


def refresh_quietly(kind, pk):
    """`refresh` in a savepoint: a failure is logged and left to `reconcile`, never raised (messages)."""
    try:
        with transaction.atomic():
            refresh(kind, pk)
    except Exception:
        logger.exception("figures: refresh of %s %s failed; reconcile_figures will retry", kind, pk)


# --- batches: rebuild and reconcile -------------------------------------------------------------

BATCH = 5000


class _Event:
    """What lifecycle.reception_point_id reads of an intake or refusal event (loaded in bulk)."""

    __slots__ = ("action", "to_department_id", "actor_id", "actor")

    def __init__(self, action, to_department_id, actor_id, actor_department_id):
        self.action, self.to_department_id, self.actor_id = action, to_department_id, actor_id
        self.actor = _Actor(actor_department_id)


class _Actor:
    __slots__ = ("department_id",)

    def __init__(self, department_id):
        self.department_id = department_id


def _points(dossier_ids) -> dict:
    by_dossier = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.dossier_id, e.action, e.to_department_id, e.actor_id, o.department_id
            FROM dossiers_dossierevent e LEFT JOIN offices_officer o ON o.id = e.actor_id
            WHERE e.dossier_id = ANY(%s) AND e.action = ANY(%s)
            ORDER BY e.created_at, e.id
            """,
            [list(dossier_ids), [*lifecycle.INTAKE_ACTIONS, "refuse"]],
        )
        for dossier_id, *event in cursor.fetchall():
            by_dossier[dossier_id].append(_Event(*event))
    return by_dossier


def _pauses(dossier_ids) -> dict:
    by_dossier = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT dossier_id, requested_at, received_at FROM dossiers_supplementrequest "
            "WHERE dossier_id = ANY(%s) ORDER BY requested_at, id",
            [list(dossier_ids)],
        )
        for dossier_id, a, b in cursor.fetchall():
            by_dossier[dossier_id].append(lifecycle.Pause(a, b))
    return by_dossier


# What a dossier's contribution reads (rebuild loads only these).
DOSSIER_FIELDS = (
    "status",
    "channel",
    "procedure__department_id",
    "procedure__processing_days",
    "procedure__on_supplement",
    "received_by__department_id",
    "reception_point",
    "accepted_at",
    "result_ready_at",
    "closed_at",
    "grade",
    "due_date",
    "original_appointment_date",
    "paused_at",
)


def dossier_batch(dossiers) -> dict:
    """{pk: entries} of these dossiers (three queries for the batch)."""
    ids = [d.pk for d in dossiers]
    events, pauses, calendar = _points(ids), _pauses(ids), current_calendar()
    cutoff = deadlines.default_cutoff()
    out = {}
    for dossier in dossiers:
        point = lifecycle.reception_point_id(dossier, events.get(dossier.pk, []))
        dossier_pauses = lifecycle.with_open_pause(dossier, pauses.get(dossier.pk, []))
        out[dossier.pk] = dossier_entries(dossier, point, dossier_pauses, calendar, cutoff)
    return out


def _batches(queryset, size=BATCH):
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def rebuild(reset=False, echo=None) -> dict:
    """Recompute every source of the current province, in batches (each its own transaction). Safe to
    rerun and to run beside live traffic (each batch settles like a refresh). `reset` first empties the
    tables under an exclusive lock (nothing else writes figures meanwhile): a rebuild from scratch."""
    changed = {}
    if reset:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("LOCK TABLE reports_contribution, reports_figure IN EXCLUSIVE MODE")
            cursor.execute("LOCK TABLE reports_figuredelta IN EXCLUSIVE MODE")
            cursor.execute("TRUNCATE reports_contribution, reports_figure, reports_figuredelta")
    sources = {
        DOSSIER: Dossier.objects.select_related("procedure", "received_by").only(*DOSSIER_FIELDS),
        RATING: Rating.objects.all(),
        MESSAGE: Notification.objects.select_related("dossier__procedure", "dossier__received_by").filter(
            state__in=(NotificationState.SENT, NotificationState.FAILED)
        ),
    }
    for kind, queryset in sources.items():
        changed[kind] = 0
        for batch in _batches(queryset):
            with transaction.atomic():
                if kind == DOSSIER:
                    new = dossier_batch(batch)
                elif kind == RATING:
                    new = {r.pk: rating_entries(r) for r in batch}
                else:
                    events = _points([m.dossier_id for m in batch])
                    new = {
                        m.pk: message_entries(m, lifecycle.reception_point_id(m.dossier, events.get(m.dossier_id, [])))
                        for m in batch
                    }
                changed[kind] += _settle(kind, new)
            if echo:
                echo(f"{kind}: {batch[-1].pk}")
        if kind == MESSAGE:
            # Messages no longer sent nor failed (re-sent) still hold their old contribution: settle them.
            stale = Contribution.objects.filter(kind=MESSAGE).exclude(entries=[]).values_list("object_id", flat=True)
            stale = list(
                Notification.objects.filter(pk__in=stale)
                .exclude(state__in=(NotificationState.SENT, NotificationState.FAILED))
                .values_list("pk", flat=True)
            )
            for pk in stale:
                changed[kind] += refresh(MESSAGE, pk)
    fold()
    return changed


RECONCILE_MARGIN = timedelta(minutes=15)  # transactions still in flight when the watermark was taken


def reconcile(since=None) -> int:
    """Refresh the messages whose state changed since the last run (minus a margin) and whose contribution
    is older than the change: heals a refresh that failed (or was never called). Returns how many changed."""
    now = timezone.now()
    if since is None:
        row = Contribution.objects.filter(kind="watermark", object_id=0).first()
        since = (row.updated_at if row else now - timedelta(days=3)) - RECONCILE_MARGIN
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.id FROM notifications_notification n
            LEFT JOIN reports_contribution c ON c.kind = %s AND c.object_id = n.id
            WHERE n.state_changed_at >= %s
              AND (c.id IS NULL AND n.state IN (%s, %s) OR c.updated_at < n.state_changed_at)
            ORDER BY n.id
            """,
            [MESSAGE, since, NotificationState.SENT, NotificationState.FAILED],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    changed = 0
    for pk in ids:
        with transaction.atomic():
            changed += refresh(MESSAGE, pk)
    Contribution.objects.update_or_create(kind="watermark", object_id=0, defaults={"entries": []})
    return changed


# --- reading ------------------------------------------------------------------------------------


def _where(scope: Scope):
    sql, params = [], []
    for column, value in (
        ("point_id", scope.point),
        ("department_id", scope.department),
        ("procedure_id", scope.procedure),
    ):
        if value is not None:
            sql.append(f"{column} = %s")
            params.append(value)
    return "".join(f" AND {s}" for s in sql), params


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _days_in_weeks(first: date, last: date) -> list:
    """[first, last] as whole weeks (their WEEK rows) and the days around them."""
    week_start = first if first.weekday() == 0 else _monday(first) + timedelta(days=7)
    week_stop = last + ONE_DAY if (last + ONE_DAY).weekday() == 0 else _monday(last)
    if week_start >= week_stop:
        return [(DAY, first, last)]
    out = [(WEEK, week_start, week_stop - ONE_DAY)]
    if first < week_start:
        out.append((DAY, first, week_start - ONE_DAY))
    if week_stop <= last:
        out.append((DAY, week_stop, last))
    return out


def cover(first: date, last: date) -> list:
    """(span, from, to): the rows whose sum is the days [first, last]: whole months (MONTH rows), whole
    weeks of what is left (WEEK rows), then days (DAY rows)."""
    if first > last:
        return []
    month_start = first if first.day == 1 else _next_month(first)
    month_stop = _next_month(last) if (last + ONE_DAY).day == 1 else last.replace(day=1)
    if month_start >= month_stop:
        return _days_in_weeks(first, last)
    out = [(MONTH, month_start, month_stop - ONE_DAY)]
    if first < month_start:
        out += _days_in_weeks(first, month_start - ONE_DAY)
    if month_stop <= last:
        out += _days_in_weeks(month_stop, last)
    return out


def _condition(ranges) -> tuple[str, list]:
    if not ranges:
        return "FALSE", []
    sql = " OR ".join("(span = %s AND day BETWEEN %s AND %s)" for _ in ranges)
    return f"({sql})", [value for r in ranges for value in r]


def _after(day: date) -> tuple[str, list]:
    """The rows of the days after `day` (the stocks' total apart)."""
    return _condition(cover(day + ONE_DAY, TOTAL_DAY - ONE_DAY))


GROUPS = {
    None: "0",
    "point": "point_id",
    "department": "department_id",
    "procedure": "procedure_id",
    "field": "procedure_id",
}


def _read(scope: Scope, group=None) -> dict:
    """{group key: Figures} of the scope, grouped by a dimension column (None: one group, key 0).

    Two queries: the flows of the period's rows (months, weeks and days covering it), and the stocks'
    total with the deltas after the period's end (or today) and after the day before its start."""
    column = GROUPS[group]
    where, params = _where(scope)
    stock_day = indicators.stock_day(scope)
    results: dict = defaultdict(Figures)
    durations: dict = defaultdict(lambda: defaultdict(int))
    period, period_params = _condition(cover(scope.start, scope.end))
    after_end, after_end_params = _after(stock_day)
    after_start, after_start_params = _after(scope.start - ONE_DAY)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {column}, measure, channel, days, sum(n) FROM {_ROWS}
            WHERE measure = ANY(%s) AND {period}{where}
            GROUP BY 1, 2, 3, 4
            """,  # noqa: S608 -- column names and conditions are constants
            [list(FLOWS), *period_params, *params],
        )
        for key, measure, channel, days, n in cursor.fetchall():
            _flow(results[key], durations[key], measure, channel, days, int(n))
        cursor.execute(
            f"""
            SELECT {column}, measure,
                   sum(n) FILTER (WHERE span = %s AND day = %s),
                   sum(n) FILTER (WHERE {after_end}),
                   sum(n) FILTER (WHERE {after_start})
            FROM {_ROWS}
            WHERE measure = ANY(%s) AND ((span = %s AND day = %s) OR {after_end} OR {after_start}){where}
            GROUP BY 1, 2
            """,  # noqa: S608 -- column names and conditions are constants
            [
                DAY,
                TOTAL_DAY,
                *after_end_params,
                *after_start_params,
                list(STOCKS),
                DAY,
                TOTAL_DAY,
                *after_end_params,
                *after_start_params,
                *params,
            ],
        )
        for key, measure, total, after_stock_day, from_start in cursor.fetchall():
            total = int(total or 0)
            result = results[key]
            if measure == "open":
                result.carried_over = total - int(from_start or 0)
            else:
                setattr(result, STOCK_FIELDS[measure], total - int(after_stock_day or 0))
    for key, result in results.items():
        indicators.set_durations(result, durations.get(key, {}))
    return results


def _flow(result: Figures, durations, measure, channel, days, n):
    if measure == "days":
        durations[days] += n
        return
    if measure == "received":
        result.received += n
        field_name = RECEIVED_BY_CHANNEL.get(channel)
        if field_name:
            setattr(result, field_name, getattr(result, field_name) + n)
        return
    setattr(result, measure, getattr(result, measure) + n)


def _merge(into: Figures, other: Figures, durations: dict):
    for name, value in other.counts().items():
        setattr(into, name, getattr(into, name) + value)
    for days, n in other.durations.items():
        durations[days] = durations.get(days, 0) + n


def figures(scope: Scope) -> Figures:
    """The figures of a scope: two queries over the rows covering the period (and the stocks' days after)."""
    return _read(scope).get(0) or Figures()


def breakdown(scope: Scope, by: str) -> list[Row]:
    if by not in indicators.BREAKDOWNS:
        raise ValueError(f"Unknown breakdown {by!r}")
    if by == "week":
        return _weeks(scope)
    results = _read(scope, by)
    if by == "field":
        fields = dict(Procedure.objects.values_list("pk", "field"))
        by_field: dict = {}
        durations: dict = defaultdict(dict)
        for pk, result in results.items():
            name = fields.get(pk)
            if name is None:
                continue
            _merge(by_field.setdefault(name, Figures()), result, durations[name])
        for name, result in by_field.items():
            indicators.set_durations(result, durations[name])
        return [
            Row(name, indicators.field_label(name), by_field[name])
            for name in sorted(by_field)
            if not indicators.is_empty(by_field[name])
        ]
    if by == "procedure":
        labels = list(Procedure.objects.filter(pk__in=results).order_by("name", "pk").values_list("pk", "name"))
    else:
        labels = list(Department.objects.filter(pk__in=results).order_by("name", "pk").values_list("pk", "name"))
    return [Row(pk, str(label), results[pk]) for pk, label in labels if not indicators.is_empty(results[pk])]


def _weeks(scope: Scope) -> list[Row]:
    """Rows per week: whole weeks read their WEEK rows, the clipped first and last their days; each week's
    stocks are the total minus the deltas after its end (WEEK rows after it, and its own days after)."""
    where, params = _where(scope)
    parts = list(indicators.weeks(scope))
    if not parts:
        return []
    results = {monday: Figures() for monday, _first, _last in parts}
    durations = {monday: defaultdict(int) for monday in results}
    ranges = []
    for monday, first, last in parts:
        if first == monday and last == monday + timedelta(days=6):
            ranges.append((WEEK, monday, monday))
        else:
            ranges.append((DAY, first, last))
    period, period_params = _condition(ranges)
    # The days the stocks are read at: the day before each week, and each week's end (or today).
    moments = {first - ONE_DAY for _m, first, _l in parts}
    moments |= {indicators.stock_day(Scope(first, last)) for _m, first, last in parts}
    partial = [(DAY, x + ONE_DAY, _monday(x) + timedelta(days=6)) for x in sorted(moments) if x.weekday() != 6]
    weeks_after = (WEEK, _monday(min(moments)), TOTAL_DAY - ONE_DAY)
    stocks, stock_params = _condition([*partial, weeks_after, (DAY, TOTAL_DAY, TOTAL_DAY)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT day, measure, channel, days, sum(n) FROM {_ROWS}
            WHERE measure = ANY(%s) AND {period}{where}
            GROUP BY 1, 2, 3, 4
            """,  # noqa: S608 -- column names and conditions are constants
            [list(FLOWS), *period_params, *params],
        )
        for day, measure, channel, days, n in cursor.fetchall():
            monday = _monday(day)
            _flow(results[monday], durations[monday], measure, channel, days, int(n))
        cursor.execute(
            f"""
            SELECT span, measure, day, sum(n) FROM {_ROWS}
            WHERE measure = ANY(%s) AND {stocks}{where}
            GROUP BY 1, 2, 3
            """,  # noqa: S608 -- column names and conditions are constants
            [list(STOCKS), *stock_params, *params],
        )
        rows = [(span, measure, day, int(n)) for span, measure, day, n in cursor.fetchall()]
    totals = defaultdict(int)
    weekly = defaultdict(lambda: defaultdict(int))
    daily = defaultdict(lambda: defaultdict(int))
    for span, measure, day, n in rows:
        if day == TOTAL_DAY:
            totals[measure] += n
        else:
            (weekly if span == WEEK else daily)[measure][day] += n
    # Sums of the WEEK rows after a day, by bisection over their Mondays.
    suffixes = {}
    for measure, sums in weekly.items():
        mondays = sorted(sums)
        running, after = 0, []
        for monday in reversed(mondays):
            running += sums[monday]
            after.append(running)
        suffixes[measure] = (mondays, after[::-1])

    def value(measure, x):
        sunday = _monday(x) + timedelta(days=6)
        after = sum(n for day, n in daily[measure].items() if x < day <= sunday)
        mondays, sums = suffixes.get(measure, ([], []))
        i = bisect.bisect_right(mondays, x)
        if i < len(mondays):
            after += sums[i]
        return totals[measure] - after

    out = []
    for monday, first, last in parts:
        result = results[monday]
        end = indicators.stock_day(Scope(first, last))
        result.carried_over = value("open", first - ONE_DAY)
        for measure, name in STOCK_FIELDS.items():
            setattr(result, name, value(measure, end))
        indicators.set_durations(result, durations[monday])
        if not indicators.is_empty(result):
            out.append(Row(monday, indicators.week_label(first, last), result))
    return out
