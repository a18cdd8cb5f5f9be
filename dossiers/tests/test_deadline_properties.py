"""Property tests of the paused clock (Decree 118/2025: time waiting for the citizen does not count).

Random receipt times (before and after the cut-off, on weekends and holidays), random pauses (several,
zero-length, within one day, across holidays, before the clock starts) and random calendars (a
province's own days off and swapped working Saturdays/Sundays on top of the national holidays). The
oracles are written from the rule in `dossiers.deadlines`' docstring, not from its code: the clock's
start day is taken from the receipt itself, and a stopped day is a working day whose midnight falls
inside the pause.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossiers.deadlines import (
    WorkingCalendar,
    appointment_date,
    receipt_start_date,
    remaining_working_days,
    resume_clock,
    shift_working_days,
    stopped_working_days,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CUTOFF = time(15, 0)
# A window with Tết 2027 (early February), 1/1 and ordinary weeks.
FIRST, DAYS = date(2026, 12, 1), 120
WINDOW = [FIRST + timedelta(days=i) for i in range(DAYS)]
WEEKENDS = [d for d in WINDOW if d.weekday() >= 5]

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def calendars(draw):
    days_off = draw(st.sets(st.sampled_from(WINDOW), max_size=12))
    working = draw(st.sets(st.sampled_from(WEEKENDS), max_size=4)) - days_off
    return WorkingCalendar(days_off=days_off, working_days=working)


def moments(first_day=0, last_day=DAYS - 40):
    """Aware datetimes in the window, any minute of any day (weekends, holidays, after the cut-off)."""
    return st.builds(
        lambda day, minute: (
            datetime.combine(FIRST + timedelta(days=day), time(0), tzinfo=VN) + timedelta(minutes=minute)
        ),
        st.integers(first_day, last_day),
        st.integers(0, 24 * 60 - 1),
    )


# A pause: minutes after the previous event, and its length in minutes. Short gaps and lengths are
# common (a pause right after an evening receipt, a supplement brought back within the hour).
gaps = st.one_of(st.integers(0, 120), st.integers(0, 6 * 24 * 60))
lengths = st.one_of(st.just(0), st.integers(1, 180), st.integers(0, 12 * 24 * 60))
pause_lists = st.lists(st.tuples(gaps, lengths), min_size=1, max_size=4)


def local(moment):
    return moment.astimezone(VN).date()


def stopped_oracle(paused_at, resumed_at, calendar, clock_start):
    """Working days after the clock's start whose midnight (Asia/Ho_Chi_Minh) lies inside the pause."""
    count, day = 0, local(paused_at)
    while day <= local(resumed_at):
        midnight = datetime.combine(day, time(0), tzinfo=VN)
        if paused_at < midnight <= resumed_at and calendar.is_working_day(day) and day > clock_start:
            count += 1
        day += timedelta(days=1)
    return count


def run(received_at, days, pauses, calendar, mode="resume"):
    """Apply `pauses` one after another; yield (paused_at, resumed_at, due before, remaining, resumed)."""
    due = appointment_date(received_at, days, calendar, CUTOFF)
    moment = received_at
    for gap, length in pauses:
        paused_at = moment + timedelta(minutes=gap)
        resumed_at = paused_at + timedelta(minutes=length)
        remaining = remaining_working_days(paused_at, due, calendar, processing_days=days)
        after = resume_clock(
            paused_at,
            resumed_at,
            due=due,
            appointment=due,
            processing_days=days,
            mode=mode,
            calendar=calendar,
            cutoff=CUTOFF,
        )
        yield paused_at, resumed_at, due, remaining, after
        due, moment = after.due, resumed_at


@PROPERTY_SETTINGS
@given(received_at=moments(), days=st.integers(0, 12), pauses=pause_lists, calendar=calendars())
def test_resume_moves_the_date_by_exactly_the_stopped_working_days(received_at, days, pauses, calendar):
    start = receipt_start_date(received_at, calendar, CUTOFF)
    for paused_at, resumed_at, due, remaining, after in run(received_at, days, pauses, calendar):
        expected = stopped_oracle(paused_at, resumed_at, calendar, start)
        assert after.stopped_days == expected
        assert after.due == shift_working_days(due, expected, calendar)
        assert after.appointment == after.due
        assert after.due >= due  # never earlier than without the pause
        assert 0 <= remaining <= days
        if local(paused_at) == local(resumed_at):  # within one day (zero-length included): nothing moves
            assert after.stopped_days == 0 and after.due == due


@PROPERTY_SETTINGS
@given(received_at=moments(), days=st.integers(0, 12), pauses=pause_lists, calendar=calendars())
def test_every_working_day_not_spent_waiting_counts(received_at, days, pauses, calendar):
    """The clock model: as long as no pause starts after the due date, exactly `days` working days after the
    start day and up to the final due date were not spent waiting for the citizen."""
    start = receipt_start_date(received_at, calendar, CUTOFF)
    waiting, late_pause, due = set(), False, appointment_date(received_at, days, calendar, CUTOFF)
    for paused_at, resumed_at, before, _remaining, after in run(received_at, days, pauses, calendar):
        late_pause |= local(paused_at) > before
        day = local(paused_at) + timedelta(days=1)
        while day <= local(resumed_at):
            waiting.add(day)
            day += timedelta(days=1)
        due = after.due
    if late_pause:
        return
    counted = sum(
        1
        for i in range(1, (due - start).days + 1)
        if calendar.is_working_day(start + timedelta(days=i)) and start + timedelta(days=i) not in waiting
    )
    assert counted == days
    assert calendar.is_working_day(due)


@PROPERTY_SETTINGS
@given(
    received_at=moments(),
    days=st.integers(0, 12),
    gap=gaps,
    length=st.integers(0, 12 * 24 * 60),
    split=st.floats(0, 1),
    calendar=calendars(),
)
def test_a_pause_split_in_two_stops_the_same_days(received_at, days, gap, length, split, calendar):
    cut = int(length * split)
    [*_, (_, _, _, _, whole)] = run(received_at, days, [(gap, length)], calendar)
    [*_, (_, _, _, _, halves)] = run(received_at, days, [(gap, cut), (0, length - cut)], calendar)
    assert halves.due == whole.due


@PROPERTY_SETTINGS
@given(received_at=moments(), days=st.integers(0, 12), pauses=pause_lists, calendar=calendars())
def test_restart_gives_the_full_time_again_from_the_resumption(received_at, days, pauses, calendar):
    for _paused_at, resumed_at, due, remaining, after in run(received_at, days, pauses, calendar, mode="restart"):
        assert after.due == appointment_date(resumed_at, days, calendar, CUTOFF)
        assert after.due >= due
        assert 0 <= remaining <= days


@PROPERTY_SETTINGS
@given(received_at=moments(), days=st.integers(0, 12), minutes=st.integers(0, 24 * 60), calendar=calendars())
def test_a_pause_before_the_clock_starts_keeps_the_full_time(received_at, days, minutes, calendar):
    """Requested after the cut-off on the receipt day (or on a day off): nothing had been counted yet."""
    start = receipt_start_date(received_at, calendar, CUTOFF)
    paused_at = received_at + timedelta(minutes=minutes)
    if local(paused_at) >= start:
        return
    due = appointment_date(received_at, days, calendar, CUTOFF)
    assert remaining_working_days(paused_at, due, calendar, processing_days=days) == days
    # Resumed on the start day itself: no counted day began while waiting.
    resumed_at = datetime.combine(start, time(11, 0), tzinfo=VN)
    assert stopped_working_days(paused_at, resumed_at, calendar, clock_start=start) == 0
    after = resume_clock(
        paused_at, resumed_at, due=due, appointment=due, processing_days=days, mode="resume", calendar=calendar
    )
    assert after.due == due


@PROPERTY_SETTINGS
@given(
    received_at=moments(),
    days=st.integers(0, 12),
    gap=gaps,
    length=lengths,
    postponed_by=st.integers(1, 5),
    mode=st.sampled_from(["resume", "restart"]),
    calendar=calendars(),
)
def test_a_postponed_appointment_is_moved_too_never_brought_forward(
    received_at, days, gap, length, postponed_by, mode, calendar
):
    due = appointment_date(received_at, days, calendar, CUTOFF)
    appointment = calendar.add_working_days(due, postponed_by)
    paused_at = received_at + timedelta(minutes=gap)
    resumed_at = paused_at + timedelta(minutes=length)
    after = resume_clock(
        paused_at,
        resumed_at,
        due=due,
        appointment=appointment,
        processing_days=days,
        mode=mode,
        calendar=calendar,
        cutoff=CUTOFF,
    )
    assert after.appointment >= after.due
    assert after.appointment >= shift_working_days(appointment, after.stopped_days, calendar)
    if mode == "resume":
        assert after.appointment == shift_working_days(appointment, after.stopped_days, calendar)


# --- examples ---------------------------------------------------------------------------------------------


def at(*args):
    return datetime(*args, tzinfo=VN)


def test_the_issue_11_scenario():
    """3 working days, received Wed 02/12/2026 16:18 (after the cut-off): due Tue 08/12. A supplement asked
    at 16:19 and brought at 16:21 leaves 3 days (not 4) and moves nothing (it moved to 09/12)."""
    calendar = WorkingCalendar()
    due = appointment_date(at(2026, 12, 2, 16, 18), 3, calendar, CUTOFF)
    assert due == date(2026, 12, 8)
    assert remaining_working_days(at(2026, 12, 2, 16, 19), due, calendar, processing_days=3) == 3
    after = resume_clock(
        at(2026, 12, 2, 16, 19),
        at(2026, 12, 2, 16, 21),
        due=due,
        appointment=due,
        processing_days=3,
        mode="resume",
        calendar=calendar,
        cutoff=CUTOFF,
    )
    assert after == (date(2026, 12, 8), date(2026, 12, 8), 0)


def test_monday_10_to_tuesday_10_stops_one_day():
    calendar = WorkingCalendar()
    assert stopped_working_days(at(2026, 12, 7, 10), at(2026, 12, 8, 10), calendar) == 1
    assert stopped_working_days(at(2026, 12, 7, 8), at(2026, 12, 7, 17), calendar) == 0
    assert stopped_working_days(at(2026, 12, 4, 16), at(2026, 12, 7, 9), calendar) == 1  # Fri → Mon: Monday
    assert stopped_working_days(at(2026, 12, 5, 9), at(2026, 12, 6, 18), calendar) == 0  # Sat → Sun


def test_a_pause_across_tet_stops_only_working_days():
    calendar = WorkingCalendar()
    # Tết 2027: Thu 04/02 to Wed 10/02 off. Paused Wed 03/02 10:00, back Fri 12/02 10:00: Thu 11 and Fri 12.
    assert stopped_working_days(at(2027, 2, 3, 10), at(2027, 2, 12, 10), calendar) == 2
    due = date(2027, 2, 3)  # due that very day: the new date is two working days later, Fri 12/02
    after = resume_clock(
        at(2027, 2, 3, 10),
        at(2027, 2, 12, 10),
        due=due,
        appointment=due,
        processing_days=3,
        mode="resume",
        calendar=calendar,
    )
    assert after.due == date(2027, 2, 12)
