"""A changed appointment is told to the citizen with the new date (form 02 promises it; issue 11.1).

Receiving a supplement always sends one "new appointment" message naming the date, dd/mm/yyyy: the
new one and the one it replaces when the pause moved it, "không thay đổi" when a pause within one day
moved nothing (the citizen still learns the date: the supplement form told them a new one would come).
A postponement's apology names the new date.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dossiers import services
from dossiers.tests.factories import ProcedureFactory, receive
from notifications import delivery
from notifications.models import Kind, Notification, State

pytestmark = pytest.mark.django_db
VN = ZoneInfo("Asia/Ho_Chi_Minh")
ITEMS = [services.MissingItem("Tờ khai", "Thiếu chữ ký")]


def at(*args):
    return datetime(*args, tzinfo=VN)


def received(officer, when, days=3):
    with services.backdated(when):
        return receive(officer, ProcedureFactory(processing_days=days))


def step(when, action, *args, **kwargs):
    with services.backdated(when):
        return getattr(services, action)(*args, **kwargs)


def new_appointment_rows(dossier):
    return list(Notification.objects.filter(dossier=dossier, kind=Kind.NEW_APPOINTMENT))


def test_a_supplement_that_moves_the_date_sends_one_message_with_the_new_and_the_old_date(reception):
    dossier = received(reception, at(2026, 12, 7, 9, 0))  # Mon 07/12, 3 days → Thu 10/12
    step(at(2026, 12, 7, 10, 0), "request_supplement", dossier, reception, items=ITEMS)
    assert new_appointment_rows(dossier) == []  # asking is not announcing a date
    step(at(2026, 12, 8, 10, 0), "receive_supplement", dossier, reception)  # Tuesday stopped → Fri 11/12
    [row] = new_appointment_rows(dossier)
    assert row.event.action == "receive_supplement" and row.state == State.PENDING
    assert dossier.code in row.text and "/tra-cuu/" in row.text
    assert "Ngày hẹn trả kết quả: 11/12/2026" in row.text
    assert "10/12/2026" in row.text  # the date it replaces
    assert "không thay đổi" not in row.text
    # One message per event: nothing else announced the date again.
    assert Notification.objects.filter(dossier=dossier, event=row.event).count() == 1


def test_a_same_day_supplement_says_the_date_did_not_change(reception):
    """The issue's case: after the cut-off, asked at 16:19, brought at 16:21; the date stays 08/12."""
    dossier = received(reception, at(2026, 12, 2, 16, 18))
    step(at(2026, 12, 2, 16, 19), "request_supplement", dossier, reception, items=ITEMS)
    step(at(2026, 12, 2, 16, 21), "receive_supplement", dossier, reception)
    [row] = new_appointment_rows(dossier)
    assert "Ngày hẹn trả kết quả: 08/12/2026 (không thay đổi)" in row.text
    assert "09/12/2026" not in row.text


def test_each_supplement_received_is_its_own_message(reception):
    dossier = received(reception, at(2026, 12, 7, 9, 0))
    step(at(2026, 12, 7, 10, 0), "request_supplement", dossier, reception, items=ITEMS)
    step(at(2026, 12, 8, 10, 0), "receive_supplement", dossier, reception)  # → 11/12
    step(at(2026, 12, 8, 11, 0), "request_supplement", dossier, reception, items=ITEMS)
    step(at(2026, 12, 10, 9, 0), "receive_supplement", dossier, reception)  # Wed, Thu stopped → Tue 15/12
    texts = [row.text for row in sorted(new_appointment_rows(dossier), key=lambda r: r.pk)]
    assert len(texts) == 2
    assert "11/12/2026" in texts[0] and "15/12/2026" in texts[1] and "hẹn trước đây: 11/12/2026" in texts[1]


def test_a_postponement_names_the_new_date(officers):
    reception, leader = officers["reception"], officers["leader"]
    dossier = received(reception, at(2026, 3, 2, 9, 0))  # due 05/03
    step(at(2026, 3, 2, 10, 0), "hand_over", dossier, reception, to_department=leader.department)
    step(at(2026, 3, 4, 9, 0), "postpone", dossier, leader, new_date=date(2026, 3, 10), reason="chờ xác minh")
    [row] = Notification.objects.filter(dossier=dossier, kind=Kind.APOLOGY)
    assert "10/03/2026" in row.text and "chờ xác minh" in row.text


def test_the_zns_template_carries_the_new_date(zalo, reception):
    """Through the OA's approved template (no CS text): the date parameter is the new date."""
    dossier = received(reception, at(2026, 12, 7, 9, 0))
    step(at(2026, 12, 7, 10, 0), "request_supplement", dossier, reception, items=ITEMS)
    step(at(2026, 12, 8, 10, 0), "receive_supplement", dossier, reception)
    [row] = new_appointment_rows(dossier)
    assert delivery.send(row.pk).state == State.SENT
    message = zalo.find_messages(tracking_id=row.tracking_id)[-1]
    assert message["template_data"]["ngay_hen"] == "11/12/2026"
    assert message["template_data"]["ma_ho_so"] == dossier.code
