"""Specification of the working-day calendar and deadlines (ngày làm việc, ngày hẹn trả).

Pure Python: no database, no Django settings needed. Dates are those the `holidays` package (0.109) gives
for Vietnam in 2026:
- Tết Bính Ngọ: Mon 16/2 (Giao thừa) to Fri 20/2 (Mùng bốn); with the weekends, 14/2–22/2 off.
- Giỗ Tổ Hùng Vương falls on Sun 26/4, observed Mon 27/4; 30/4 is a Thursday, 1/5 a Friday.
- Quốc khánh: Tue 1/9 and Wed 2/9, plus Mon 31/8 swapped for Sat 22/8 (which becomes a working day).
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dossiers.deadlines import (
    EARLY,
    LATE,
    ON_TIME,
    WorkingCalendar,
    appointment_date,
    grade,
    is_due_soon,
    is_overdue,
    local_date,
    receipt_start_date,
    remaining_working_days,
    resume_clock,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = ZoneInfo("UTC")
CUTOFF = time(15, 0)


def at(year, month, day, hour=9, minute=0, tz=VN):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


@pytest.fixture(scope="module")
def cal():
    return WorkingCalendar()


# --- The calendar ----------------------------------------------------------------------------------------------


def test_library_gives_tet_2026_as_monday_16_to_friday_20_february(cal):
    feb = [date(2026, 2, d) for d in range(12, 25)]
    off = [d for d in feb if not cal.is_working_day(d)]
    assert off == [date(2026, 2, d) for d in (14, 15, 16, 17, 18, 19, 20, 21, 22)]
    assert cal.day_off_reason(date(2026, 2, 16)) == "Giao thừa Tết Nguyên Đán"
    assert cal.day_off_reason(date(2026, 2, 17)) == "Tết Nguyên Đán"
    assert cal.day_off_reason(date(2026, 2, 20)) == "Mùng bốn Tết Nguyên Đán"


def test_weekdays_work_and_weekends_are_named_in_vietnamese(cal):
    assert cal.is_working_day(date(2026, 3, 13))  # Friday
    assert cal.day_off_reason(date(2026, 3, 13)) is None
    assert cal.day_off_reason(date(2026, 3, 14)) == "Thứ Bảy"
    assert cal.day_off_reason(date(2026, 3, 15)) == "Chủ nhật"


def test_hung_kings_day_on_a_sunday_is_observed_on_monday(cal):
    assert cal.day_off_reason(date(2026, 4, 26)) == "Ngày Giỗ Tổ Hùng Vương"
    assert cal.day_off_reason(date(2026, 4, 27)) == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"
    assert cal.day_off_reason(date(2026, 4, 30)) == "Ngày Chiến thắng"
    assert cal.day_off_reason(date(2026, 5, 1)) == "Ngày Quốc tế Lao động"


def test_national_day_2026_has_an_adjacent_day_and_a_swapped_working_saturday(cal):
    assert not cal.is_working_day(date(2026, 9, 1))
    assert not cal.is_working_day(date(2026, 9, 2))
    assert cal.day_off_reason(date(2026, 8, 31)) == "Ngày nghỉ (thay cho ngày 22/08/2026)"
    assert cal.is_working_day(date(2026, 8, 22))  # Saturday worked in exchange


def test_next_working_day_skips_weekend_and_tet(cal):
    assert cal.next_working_day(date(2026, 3, 13)) == date(2026, 3, 16)
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)


def test_add_zero_working_days_is_the_day_itself_or_the_next_working_day(cal):
    assert cal.add_working_days(date(2026, 3, 10), 0) == date(2026, 3, 10)
    assert cal.add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 16)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 10), -1)


def test_working_days_between_counts_the_end_but_not_the_start(cal):
    assert cal.working_days_between(date(2026, 3, 13), date(2026, 3, 16)) == 1
    assert cal.working_days_between(date(2026, 3, 9), date(2026, 3, 13)) == 4
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1  # the whole Tết break
    assert cal.working_days_between(date(2026, 3, 16), date(2026, 3, 16)) == 0
    assert cal.working_days_between(date(2026, 3, 16), date(2026, 3, 13)) == 0


def test_calendar_expands_to_other_years_on_demand(cal):
    assert cal.day_off_reason(date(2025, 1, 29)) == "Tết Nguyên Đán"
    assert cal.day_off_reason(date(2027, 1, 1)) == "Tết Dương lịch"


# --- Province overrides ----------------------------------------------------------------------------------------


def test_province_extra_day_off_moves_the_appointment():
    cal = WorkingCalendar(days_off=[date(2026, 3, 20)], reasons={date(2026, 3, 20): "Nghỉ theo quyết định của tỉnh"})
    assert not cal.is_working_day(date(2026, 3, 20))
    assert cal.day_off_reason(date(2026, 3, 20)) == "Nghỉ theo quyết định của tỉnh"
    # Thursday 19/3, 1 working day: Friday 20/3 is off, so Monday 23/3.
    assert appointment_date(at(2026, 3, 19), 1, cal, CUTOFF) == date(2026, 3, 23)


def test_province_day_off_without_reason_still_has_one():
    cal = WorkingCalendar(days_off=[date(2026, 3, 20)])
    assert cal.day_off_reason(date(2026, 3, 20)) == "Ngày nghỉ"


def test_province_working_saturday_counts():
    cal = WorkingCalendar(working_days=[date(2026, 3, 21)])
    assert cal.is_working_day(date(2026, 3, 21))
    assert cal.day_off_reason(date(2026, 3, 21)) is None
    # Friday 20/3, 1 working day: the working Saturday 21/3.
    assert appointment_date(at(2026, 3, 20), 1, cal, CUTOFF) == date(2026, 3, 21)


def test_override_wins_over_the_holiday_library():
    cal = WorkingCalendar(working_days=[date(2026, 2, 20)], days_off=[date(2026, 8, 22)])
    assert cal.is_working_day(date(2026, 2, 20))
    assert not cal.is_working_day(date(2026, 8, 22))


def test_a_date_cannot_be_both_off_and_working():
    with pytest.raises(ValueError):
        WorkingCalendar(days_off=[date(2026, 3, 20)], working_days=[date(2026, 3, 20)])


# --- Appointment dates (ngày hẹn trả) --------------------------------------------------------------------------


def test_appointment_skips_tet_2026(cal):
    # Friday 13/2 is the last working day before Tết; 3 working days later is Wednesday 25/2.
    assert appointment_date(at(2026, 2, 13, 10), 3, cal, CUTOFF) == date(2026, 2, 25)


def test_appointment_received_after_cutoff_before_tet_starts_after_tet(cal):
    assert receipt_start_date(at(2026, 2, 13, 16), cal, CUTOFF) == date(2026, 2, 23)
    assert appointment_date(at(2026, 2, 13, 16), 3, cal, CUTOFF) == date(2026, 2, 26)


def test_appointment_received_during_tet_starts_after_tet(cal):
    assert appointment_date(at(2026, 2, 17, 9), 0, cal, CUTOFF) == date(2026, 2, 23)


def test_appointment_skips_hung_kings_30_april_and_1_may_2026(cal):
    # Friday 24/4 + 3: Tue 28/4, Wed 29/4, then Mon 4/5 (27/4, 30/4 and 1/5 are holidays).
    assert appointment_date(at(2026, 4, 24), 3, cal, CUTOFF) == date(2026, 5, 4)
    assert appointment_date(at(2026, 4, 29), 1, cal, CUTOFF) == date(2026, 5, 4)


def test_appointment_skips_national_day_2026(cal):
    # Friday 28/8 + 1: 31/8, 1/9 and 2/9 are off, so Thursday 3/9.
    assert appointment_date(at(2026, 8, 28), 1, cal, CUTOFF) == date(2026, 9, 3)


def test_appointment_skips_weekend(cal):
    # Thursday 12/3 + 2: Friday 13/3, Monday 16/3.
    assert appointment_date(at(2026, 3, 12), 2, cal, CUTOFF) == date(2026, 3, 16)


def test_received_on_saturday_counts_from_monday(cal):
    assert receipt_start_date(at(2026, 3, 14, 9), cal, CUTOFF) == date(2026, 3, 16)
    assert appointment_date(at(2026, 3, 14, 9), 1, cal, CUTOFF) == date(2026, 3, 17)


# --- The 15:00 cut-off -----------------------------------------------------------------------------------------


def test_same_day_procedure_received_at_1459_is_due_today(cal):
    assert appointment_date(at(2026, 3, 10, 14, 59), 0, cal, CUTOFF) == date(2026, 3, 10)


def test_same_day_procedure_received_at_1500_is_due_next_working_day(cal):
    assert appointment_date(at(2026, 3, 10, 15, 0), 0, cal, CUTOFF) == date(2026, 3, 11)


def test_friday_after_cutoff_counts_as_received_monday(cal):
    assert receipt_start_date(at(2026, 3, 13, 15, 30), cal, CUTOFF) == date(2026, 3, 16)
    assert appointment_date(at(2026, 3, 13, 15, 30), 0, cal, CUTOFF) == date(2026, 3, 16)
    assert appointment_date(at(2026, 3, 13, 15, 30), 2, cal, CUTOFF) == date(2026, 3, 18)


def test_cutoff_is_a_parameter(cal):
    assert appointment_date(at(2026, 3, 10, 16, 0), 0, cal, time(17, 0)) == date(2026, 3, 10)


def test_cutoff_applies_to_local_time_not_utc(cal):
    # 07:59 UTC is 14:59 in Hà Nội, 08:00 UTC is 15:00.
    assert receipt_start_date(at(2026, 3, 10, 7, 59, tz=UTC), cal, CUTOFF) == date(2026, 3, 10)
    assert receipt_start_date(at(2026, 3, 10, 8, 0, tz=UTC), cal, CUTOFF) == date(2026, 3, 11)


# --- Pausing for supplementary documents -----------------------------------------------------------------------


def test_pause_keeps_the_working_days_left(cal):
    due = appointment_date(at(2026, 3, 2), 10, cal, CUTOFF)
    assert due == date(2026, 3, 16)
    # Paused Wednesday 4/3: 5, 6, 9, 10, 11, 12, 13, 16 remain.
    assert remaining_working_days(at(2026, 3, 4, 10), due, cal) == 8


def test_pause_across_tet_counts_only_working_days(cal):
    assert remaining_working_days(at(2026, 2, 13, 10), date(2026, 2, 25), cal) == 3


def test_pause_after_the_appointment_leaves_nothing(cal):
    assert remaining_working_days(at(2026, 3, 17), date(2026, 3, 16), cal) == 0


def resumed(paused_at, resumed_at, mode, cal, due=date(2026, 3, 16), days=10):
    return resume_clock(
        paused_at, resumed_at, due=due, appointment=due, processing_days=days, mode=mode, calendar=cal, cutoff=CUTOFF
    )


def test_resume_moves_the_date_by_the_working_days_the_clock_was_stopped(cal):
    # Due 16/3; paused Wednesday 4/3 10:00, resumed Wednesday 11/3 10:00: 5, 6, 9, 10, 11 stopped.
    after = resumed(at(2026, 3, 4, 10), at(2026, 3, 11, 10), "resume", cal)
    assert after.stopped_days == 5
    assert after.due == after.appointment == date(2026, 3, 23)


def test_restart_gives_the_full_processing_time_again(cal):
    assert resumed(at(2026, 3, 4, 10), at(2026, 3, 11, 10), "restart", cal).due == date(2026, 3, 25)


def test_the_cut_off_does_not_apply_to_the_end_of_a_pause(cal):
    # Was 24/3 (the resumption at 16:00 counted from the next day, one day more than the pause stopped).
    assert resumed(at(2026, 3, 4, 10), at(2026, 3, 11, 16), "resume", cal).due == date(2026, 3, 23)
    # In restart mode the resumption is a new receipt: after the cut-off it counts from the next day.
    assert resumed(at(2026, 3, 4, 10), at(2026, 3, 11, 16), "restart", cal).due == date(2026, 3, 26)


def test_unknown_resume_mode_is_rejected(cal):
    with pytest.raises(ValueError):
        resumed(at(2026, 3, 4), at(2026, 3, 11), "pause", cal)


# --- Grading: trước hạn / đúng hạn / trễ hạn -------------------------------------------------------------------


DUE = date(2026, 3, 11)


def test_finished_before_the_appointment_is_early():
    assert grade(at(2026, 3, 10, 16), DUE) == EARLY


def test_finished_late_at_night_on_the_appointment_day_is_on_time():
    assert grade(at(2026, 3, 11, 23, 30), DUE) == ON_TIME


def test_finished_the_day_after_is_late():
    assert grade(at(2026, 3, 12, 0, 30), DUE) == LATE


def test_grading_uses_the_local_date_of_a_utc_datetime():
    assert local_date(at(2026, 3, 10, 18, 0, tz=UTC)) == date(2026, 3, 11)
    assert grade(at(2026, 3, 10, 18, 0, tz=UTC), DUE) == ON_TIME  # 01:00 on 11/3 in Hà Nội
    assert grade(at(2026, 3, 11, 17, 30, tz=UTC), DUE) == LATE  # 00:30 on 12/3 in Hà Nội


def test_naive_datetimes_are_rejected():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 3, 10, 9, 0))


# --- Due soon / overdue ----------------------------------------------------------------------------------------


def test_overdue_only_after_the_appointment_day():
    assert not is_overdue(date(2026, 3, 16), date(2026, 3, 16))
    assert is_overdue(date(2026, 3, 16), date(2026, 3, 17))


def test_due_soon_within_two_working_days(cal):
    due = date(2026, 3, 16)  # Monday
    assert not is_due_soon(due, date(2026, 3, 11), cal)  # 12, 13, 16 left
    assert is_due_soon(due, date(2026, 3, 12), cal)  # 13, 16 left
    assert is_due_soon(due, date(2026, 3, 16), cal)  # due today
    assert not is_due_soon(due, date(2026, 3, 17), cal)  # overdue instead


def test_due_soon_ignores_days_off(cal):
    # Due the first day after Tết; on the last day before it only one working day is left.
    assert is_due_soon(date(2026, 2, 23), date(2026, 2, 13), cal, within=1)
    assert not is_due_soon(date(2026, 3, 16), date(2026, 3, 12), cal, within=1)
