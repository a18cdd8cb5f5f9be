"""Working-day calendar and deadline arithmetic (ngày làm việc, ngày hẹn trả).

Pure Python, no database. A procedure's processing time is counted in working days (ngày làm việc):
Monday–Friday minus Vietnamese public holidays, as computed by the `holidays` package (lunar Tết and
Hùng Kings' day included, the government's swapped days too), corrected by a province's own
override table. Results are graded trước hạn / đúng hạn / trễ hạn (EARLY / ON_TIME / LATE).

All datetimes must be timezone-aware; dates are taken in Asia/Ho_Chi_Minh.

The clock (Decree 118/2025: time waiting for the citizen does not count)
-----------------------------------------------------------------------
- The clock's *start day* S is the receipt start date: the day of receipt if it is a working day and
  the dossier came before the cut-off (15:00 by default), else the next working day. In "restart" mode
  the resumption after a supplement is a new receipt: S becomes the resumption's start date.
- The clock counts a working day when that day *begins*: working day d is counted iff d > S. The
  appointment (due date) is the day on which the `processing_days`-th counted day begins (S itself
  when processing_days is 0). The receipt day is therefore never counted, and neither is any day up
  to S for a dossier received after the cut-off or on a day off.
- A pause lasts from the supplement request (a) to the supplement's receipt (b). The *working days
  the clock was stopped* are the working days d > S that began during the pause:
  ``local_date(a) < d <= local_date(b)``. So a pause that starts and ends on one day stops nothing
  (whatever the cut-off: the cut-off decides when a dossier starts counting, not when a pause ends);
  Monday 10:00 → Tuesday 10:00 stops one day (Tuesday); Friday 16:00 → Monday 09:00 stops one day
  (Monday); a pause before S (requested after the cut-off on the receipt day) stops only the days
  after S that it reaches. Pauses add up: splitting a pause in two stops the same days.
- "Resume" mode: the new appointment is the old one moved by exactly the stopped working days (also
  when the dossier was already late: the lateness is kept, not forgiven). "Restart" mode: the full
  processing time again, counted from the resumption like a new receipt (cut-off applied).
- The working days *remaining* when the clock pauses are the counted days still ahead:
  ``min(processing_days, working days in (local_date(a), due])``; never more than the procedure's
  time, 0 when due or overdue.
- The start day need not be stored: as long as the clock has not started, more than
  `processing_days` working days lie between the pause and the due date, and S is the working day
  exactly `processing_days` working days before the due date (`pending_clock_start`).
"""

import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

ON_TIME, EARLY, LATE = "on_time", "early", "late"

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_CUTOFF = time(15, 0)
ONE_DAY = timedelta(days=1)

WEEKEND_NAMES = {5: "Thứ Bảy", 6: "Chủ nhật"}
DEFAULT_DAY_OFF_REASON = "Ngày nghỉ"


def default_cutoff() -> time:
    """The same-day cut-off: settings.SAME_DAY_CUTOFF (a time or "HH:MM") if Django is configured, else 15:00."""
    try:
        from django.conf import settings

        value = getattr(settings, "SAME_DAY_CUTOFF", None) if settings.configured else None
    except ImportError:
        value = None
    if value is None:
        return DEFAULT_CUTOFF
    return value if isinstance(value, time) else time.fromisoformat(value)


class WorkingCalendar:
    """Vietnamese working days (ngày làm việc): Mon–Fri, minus public holidays, plus per-province overrides.

    Holidays come from `holidays` (country "VN", names in Vietnamese); Saturdays the government swapped
    into working days (`weekend_workdays` in the library) count as working days. Overrides win over both:
    `days_off` are never working days, `working_days` always are. `reasons` names the overrides.
    """

    def __init__(
        self,
        days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
        reasons: Mapping[date, str] | None = None,
    ):
        self.days_off = frozenset(days_off)
        self.working_days = frozenset(working_days)
        if clash := self.days_off & self.working_days:
            raise ValueError(f"Dates both off and working: {sorted(clash)}")
        self.reasons = dict(reasons or {})
        # Years are populated on demand: with expand=True the library fills a year the first time one of its
        # dates is looked up, so one cached object serves every year this calendar is asked about.
        self._holidays = holidays.country_holidays("VN", years=(), language="vi", expand=True)
        # One calendar serves the threads of a web process (calendars.current_calendar): the library
        # marks a year as filled before it fills it, so each year is filled once, under a lock.
        self._years_filled: set[int] = set()
        self._filling = threading.Lock()

    def _fill(self, year: int):
        if year not in self._years_filled:
            with self._filling:
                if year not in self._years_filled:
                    self._holidays.get(date(year, 1, 1))  # fills the whole year (expand=True)
                    self._years_filled.add(year)

    def _holiday_name(self, d: date) -> str | None:
        self._fill(d.year)
        return self._holidays.get(d)

    def is_working_day(self, d: date) -> bool:
        if d in self.working_days:
            return True
        if d in self.days_off or self._holiday_name(d) is not None:
            return False
        self._fill(d.year)
        return d.weekday() < 5 or d in self._holidays.weekend_workdays

    def day_off_reason(self, d: date) -> str | None:
        """Why `d` is not a working day, in Vietnamese; None if it is one."""
        if self.is_working_day(d):
            return None
        if d in self.days_off:
            return self.reasons.get(d) or self._holiday_name(d) or DEFAULT_DAY_OFF_REASON
        return self._holiday_name(d) or WEEKEND_NAMES.get(d.weekday(), DEFAULT_DAY_OFF_REASON)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += ONE_DAY
        while not self.is_working_day(d):
            d += ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start`; for n == 0, `start` itself or the next working day."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start if self.is_working_day(start) else self.next_working_day(start)
        d = start
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days d satisfy start < d <= end (0 if end <= start)."""
        count, d = 0, start + ONE_DAY
        while d <= end:
            count += self.is_working_day(d)
            d += ONE_DAY
        return count


def local_date(dt: datetime) -> date:
    """The calendar date of an aware datetime in Asia/Ho_Chi_Minh."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("A timezone-aware datetime is required")
    return dt.astimezone(VN_TZ).date()


def receipt_start_date(received_at: datetime, calendar: WorkingCalendar, cutoff: time | None = None) -> date:
    """The working day the clock starts from.

    A dossier received on a working day before the cut-off counts from that day; one received at or after
    the cut-off, or on a day off, counts as received on the next working day.
    """
    if cutoff is None:
        cutoff = default_cutoff()
    day = local_date(received_at)
    local = received_at.astimezone(VN_TZ)
    if calendar.is_working_day(day) and local.time() < cutoff:
        return day
    return calendar.next_working_day(day)


def appointment_date(
    received_at: datetime, processing_days: int, calendar: WorkingCalendar, cutoff: time | None = None
) -> date:
    """Ngày hẹn trả: `processing_days` working days after the start date; 0 means the start date itself."""
    return calendar.add_working_days(receipt_start_date(received_at, calendar, cutoff), processing_days)


def remaining_working_days(
    paused_at: datetime, due: date, calendar: WorkingCalendar, processing_days: int | None = None
) -> int:
    """Working days left on the clock when it pauses: the counted days in (pause day, due]; 0 if due or overdue.

    With `processing_days`, never more than it (a pause before the clock started leaves the full time)."""
    left = calendar.working_days_between(local_date(paused_at), due)
    return left if processing_days is None else min(left, processing_days)


def shift_working_days(day: date, n: int, calendar: WorkingCalendar) -> date:
    """`day` moved later by exactly `n` working days (`day` itself when n == 0)."""
    return day if n == 0 else calendar.add_working_days(day, n)


def pending_clock_start(paused_at: datetime, due: date, processing_days: int, calendar: WorkingCalendar) -> date | None:
    """The start day S of a clock that had not started yet at `paused_at`, or None if it had.

    The clock had not started iff more than `processing_days` working days lie in (pause day, due]; S is then
    the working day exactly `processing_days` working days before `due`."""
    day = local_date(paused_at)
    if calendar.working_days_between(day, due) <= processing_days:
        return None
    start, counted = due, 0
    while counted < processing_days or not calendar.is_working_day(start):
        counted += calendar.is_working_day(start)
        start -= ONE_DAY
    return start


def stopped_working_days(
    paused_at: datetime, resumed_at: datetime, calendar: WorkingCalendar, clock_start: date | None = None
) -> int:
    """The working days the clock was stopped: working days d that began during the pause (pause day < d <=
    resumption day) and that the clock counts (d > `clock_start`, when given). 0 for a same-day pause."""
    first = local_date(paused_at)
    if clock_start is not None:
        first = max(first, clock_start)
    return calendar.working_days_between(first, local_date(resumed_at))


class Resumed(NamedTuple):
    due: date  # the new legal due date
    appointment: date  # the new appointment date told to the citizen
    stopped_days: int  # working days the clock was stopped


def resume_clock(
    paused_at: datetime,
    resumed_at: datetime,
    *,
    due: date,
    appointment: date | None,
    processing_days: int,
    mode: str,
    calendar: WorkingCalendar,
    cutoff: time | None = None,
) -> Resumed:
    """The dates after supplementation (see the module docstring).

    "resume": the due date and the appointment both move by exactly the working days the clock was stopped.
    "restart": the due date is `processing_days` from the resumption (like a new receipt); the appointment is
    that, or the earlier appointment moved by the stopped days if that is later (a postponement is not undone).
    """
    if mode not in ("resume", "restart"):
        raise ValueError(f"Unknown mode {mode!r}: expected 'resume' or 'restart'")
    start = pending_clock_start(paused_at, due, processing_days, calendar)
    stopped = stopped_working_days(paused_at, resumed_at, calendar, clock_start=start)
    if mode == "resume":
        new_due = shift_working_days(due, stopped, calendar)
    else:
        new_due = appointment_date(resumed_at, processing_days, calendar, cutoff)
    moved = shift_working_days(appointment or due, stopped, calendar)
    return Resumed(new_due, max(new_due, moved), stopped)


def grade(finished_at: datetime, due: date) -> str:
    """Trước hạn (EARLY), đúng hạn (ON_TIME) or trễ hạn (LATE), comparing local dates."""
    finished = local_date(finished_at)
    if finished < due:
        return EARLY
    return ON_TIME if finished == due else LATE


def is_overdue(due: date, today: date) -> bool:
    """Quá hạn: the appointment date has passed."""
    return today > due


def is_due_soon(due: date, today: date, calendar: WorkingCalendar, within: int = 2) -> bool:
    """Sắp đến hạn: not overdue and at most `within` working days left."""
    return not is_overdue(due, today) and calendar.working_days_between(today, due) <= within
