"""Deadlines as officers meet them: appointment dates, the paused clock, grades."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dossiers import services
from dossiers.models import Dossier, SupplementMode, WorkingDayOverride
from dossiers.tests.factories import ProcedureFactory, receive

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args):
    return datetime(*args, tzinfo=VN)


def received(officer, when, days, **procedure):
    with services.backdated(when):
        return receive(officer, ProcedureFactory(processing_days=days, **procedure))


def step(when, action, dossier, officer, **kwargs):
    with services.backdated(when):
        return services.ACTION_FUNCTIONS[action](dossier, officer, **kwargs)


def test_appointment_skips_tet_2026(reception):
    # Tết 2026: 16–20/02 are holidays, 14–22/02 off with the weekends.
    dossier = received(reception, at(2026, 2, 13, 10, 0), 3)
    assert dossier.appointment_date == date(2026, 2, 25)
    assert dossier.due_date == date(2026, 2, 25)


def test_appointment_skips_hung_kings_day_and_30_4_1_5_2026(reception):
    dossier = received(reception, at(2026, 4, 24, 10, 0), 3)
    assert dossier.appointment_date == date(2026, 5, 4)


def test_received_after_the_cut_off_counts_from_the_next_working_day(reception):
    before = received(reception, at(2026, 3, 13, 14, 59), 0)
    after = received(reception, at(2026, 3, 13, 15, 0), 0)
    assert before.appointment_date == date(2026, 3, 13)  # same day
    assert after.appointment_date == date(2026, 3, 16)  # Friday after 15:00 → Monday


def test_the_provinces_own_day_off_moves_the_appointment(reception):
    WorkingDayOverride.objects.create(date=date(2026, 3, 17), is_working_day=False, reason="Nghỉ bù của tỉnh")
    dossier = received(reception, at(2026, 3, 16, 9, 0), 1)
    assert dossier.appointment_date == date(2026, 3, 18)


@pytest.mark.parametrize(
    ("mode", "new_date"), [(SupplementMode.RESUME, date(2026, 3, 23)), (SupplementMode.RESTART, date(2026, 3, 26))]
)
def test_supplement_request_pauses_the_clock_and_a_new_date_is_issued(reception, mode, new_date):
    dossier = received(reception, at(2026, 3, 2, 9, 0), 10, on_supplement=mode)
    assert dossier.appointment_date == date(2026, 3, 16)
    step(
        at(2026, 3, 5, 10, 0),
        "request_supplement",
        dossier,
        reception,
        items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")],
    )
    paused = Dossier.objects.get(pk=dossier.pk)
    assert paused.remaining_days == 7 and paused.paused_at is not None
    request = paused.supplement_requests.get()
    assert request.appointment_before == date(2026, 3, 16)

    step(at(2026, 3, 12, 9, 0), "receive_supplement", dossier, reception)
    resumed = Dossier.objects.get(pk=dossier.pk)
    assert resumed.appointment_date == new_date and resumed.due_date == new_date
    assert resumed.original_appointment_date == date(2026, 3, 16)
    assert resumed.paused_at is None
    request.refresh_from_db()
    assert request.appointment_after == new_date


@pytest.mark.parametrize(
    ("finished", "grade"),
    [(at(2026, 3, 4, 16, 0), "early"), (at(2026, 3, 5, 23, 30), "on_time"), (at(2026, 3, 6, 8, 0), "late")],
)
def test_results_are_graded_early_on_time_or_late(officers, finished, grade):
    dossier = received(officers["reception"], at(2026, 3, 2, 9, 0), 3)  # due Thursday 05/03
    step(
        at(2026, 3, 2, 10, 0), "hand_over", dossier, officers["reception"], to_department=officers["leader"].department
    )
    result = step(finished, "mark_result_ready", dossier, officers["leader"], result="Giấy xác nhận số 7")
    assert result.grade == grade


def test_an_apology_gives_a_new_appointment_but_the_result_is_still_late(officers):
    dossier = received(officers["reception"], at(2026, 3, 2, 9, 0), 3)
    step(
        at(2026, 3, 2, 10, 0), "hand_over", dossier, officers["reception"], to_department=officers["leader"].department
    )
    postponed = step(
        at(2026, 3, 4, 9, 0),
        "postpone",
        dossier,
        officers["leader"],
        new_date=date(2026, 3, 10),
        reason="Chờ ý kiến của Sở Tư pháp",
    )
    assert postponed.appointment_date == date(2026, 3, 10) and postponed.due_date == date(2026, 3, 5)
    result = step(at(2026, 3, 9, 9, 0), "mark_result_ready", dossier, officers["leader"], result="Kết quả")
    assert result.grade == "late"


def test_a_postponed_date_must_be_a_later_working_day(officers):
    dossier = received(officers["reception"], at(2026, 3, 2, 9, 0), 3)
    step(
        at(2026, 3, 2, 10, 0), "hand_over", dossier, officers["reception"], to_department=officers["leader"].department
    )
    with pytest.raises(services.InvalidInput, match="phải sau ngày hẹn hiện tại"):
        step(at(2026, 3, 3, 9, 0), "postpone", dossier, officers["leader"], new_date=date(2026, 3, 4), reason="x")
    with pytest.raises(services.InvalidInput, match="phải là ngày làm việc"):
        step(at(2026, 3, 3, 9, 0), "postpone", dossier, officers["leader"], new_date=date(2026, 3, 7), reason="x")
    assert Dossier.objects.get(pk=dossier.pk).appointment_date == date(2026, 3, 5)


# --- issue 11.1: the paused clock through the services ------------------------------------------------


def test_a_supplement_asked_and_brought_after_the_cut_off_the_same_day_moves_nothing(reception):
    """The reported case: 3 working days, received Wed 02/12/2026 16:18 (after 15:00), so due Tue 08/12; a
    supplement asked at 16:19 and brought at 16:21 said 4 days remained and moved the date to 09/12."""
    dossier = received(reception, at(2026, 12, 2, 16, 18), 3)
    assert dossier.appointment_date == date(2026, 12, 8)
    step(
        at(2026, 12, 2, 16, 19),
        "request_supplement",
        dossier,
        reception,
        items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")],
    )
    paused = Dossier.objects.get(pk=dossier.pk)
    request = paused.supplement_requests.get()
    assert request.remaining_days == paused.remaining_days == 3  # never above the procedure's 3 days
    step(at(2026, 12, 2, 16, 21), "receive_supplement", dossier, reception)
    resumed = Dossier.objects.get(pk=dossier.pk)
    assert resumed.appointment_date == resumed.due_date == date(2026, 12, 8)
    request.refresh_from_db()
    assert request.appointment_after == date(2026, 12, 8)
    note = resumed.events.get(action="receive_supplement").citizen_note
    assert "không thay đổi" in note and "08/12/2026" in note


def test_a_pause_from_monday_10_to_tuesday_10_moves_the_date_one_working_day(reception):
    dossier = received(reception, at(2026, 12, 7, 9, 0), 3)  # Mon 07/12 → Thu 10/12
    assert dossier.appointment_date == date(2026, 12, 10)
    items = [services.MissingItem("Tờ khai", "Thiếu chữ ký")]
    step(at(2026, 12, 7, 10, 0), "request_supplement", dossier, reception, items=items)
    assert Dossier.objects.get(pk=dossier.pk).remaining_days == 3
    step(at(2026, 12, 8, 10, 0), "receive_supplement", dossier, reception)
    resumed = Dossier.objects.get(pk=dossier.pk)
    assert resumed.appointment_date == resumed.due_date == date(2026, 12, 11)
    assert resumed.original_appointment_date == date(2026, 12, 10)
    note = resumed.events.get(action="receive_supplement").citizen_note
    assert "11/12/2026" in note and "10/12/2026" in note


def test_a_supplement_keeps_a_postponement_and_moves_it_by_the_pause(officers):
    reception, leader = officers["reception"], officers["leader"]
    dossier = received(reception, at(2026, 3, 2, 9, 0), 3)  # due Thu 05/03
    step(at(2026, 3, 2, 10, 0), "hand_over", dossier, reception, to_department=leader.department)
    step(at(2026, 3, 3, 9, 0), "postpone", dossier, leader, new_date=date(2026, 3, 10), reason="Chờ xác minh")
    step(
        at(2026, 3, 3, 10, 0),
        "request_supplement",
        dossier,
        leader,
        items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")],
    )
    step(at(2026, 3, 4, 10, 0), "receive_supplement", dossier, reception)  # Wednesday stopped
    resumed = Dossier.objects.get(pk=dossier.pk)
    assert resumed.due_date == date(2026, 3, 6)
    assert resumed.appointment_date == date(2026, 3, 11)
