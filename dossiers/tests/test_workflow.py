"""Every action against every status: allowed ones succeed through the services, forbidden ones
are refused with a clear message and change nothing."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from dossiers import services, workflow
from dossiers.calendars import current_calendar
from dossiers.models import Dossier, DossierEvent, Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.tests.factories import OfficerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superofficer(reception_desk):
    """An officer holding every role, at the counter that also holds the dossier (counter, holder and
    the holder's leader at once), so that only the transition table's statuses decide."""
    officer = OfficerFactory(role="leader", department=reception_desk, user__username="moi.vai.tro")
    officer.user.groups.add(*Group.objects.all())
    return officer


def dossier_in(status, officer, procedure):
    """Drive a fresh dossier to `status` through the services."""
    if status == Status.REGISTERED:
        return services.register_online(
            procedure=procedure, applicant=services.Applicant("Lê Thị Hoa"), components=all_components(procedure)
        )
    if status == Status.REFUSED:
        d = dossier_in(Status.REGISTERED, officer, procedure)
        return services.refuse(d, officer, reason="Không thuộc thẩm quyền")
    d = receive(officer, procedure)
    steps = {
        Status.ACCEPTED: [],
        Status.IN_PROGRESS: [("hand_over", {"to_department": officer.department})],
        Status.SUPPLEMENT: [("request_supplement", {"items": [services.MissingItem("Tờ khai", "Thiếu chữ ký")]})],
        Status.FEES: [("request_fees", {"amount": 50_000})],
        Status.WITHDRAWN: [("withdraw", {"reason": "Đơn xin rút"})],
        Status.STOPPED: [("stop", {"reason": "Hết hạn bổ sung"})],
        Status.RESULT_READY: [("mark_result_ready", {"result": "Giấy xác nhận số 1"})],
        Status.RETURNED: [("mark_result_ready", {"result": "Giấy xác nhận số 1"}), ("return_result", {})],
    }[status]
    for action, kwargs in steps:
        d = services.ACTION_FUNCTIONS[action](d, officer, **kwargs)
    assert d.status == status
    return d


def valid_kwargs(action, dossier):
    return {
        "accept": {},
        "refuse": {"reason": "Sai thẩm quyền"},
        "hand_over": {"to_department": dossier.current_department},
        "request_supplement": {"items": [services.MissingItem("Giấy chứng sinh", "Bản mờ")]},
        "receive_supplement": {},
        "request_fees": {"amount": 100_000},
        "record_fees_paid": {},
        "postpone": {
            "new_date": current_calendar().add_working_days(dossier.appointment_date or timezone.localdate(), 2),
            "reason": "Chờ xác minh",
        },
        "stop": {"reason": "Theo đề nghị của cơ quan chuyên môn"},
        "mark_result_ready": {"result": "Kết quả số 2"},
        "return_result": {},
        "withdraw": {"reason": "Công dân xin rút"},
        "reissue_token": {},
    }[action]


ALL_PAIRS = [(action, status) for action in workflow.ACTIONS for status in Status]


@pytest.mark.parametrize(("action", "status"), ALL_PAIRS, ids=[f"{a}-from-{s.name}" for a, s in ALL_PAIRS])
def test_every_action_from_every_status(superofficer, action, status):
    procedure = ProcedureFactory(department=superofficer.department)
    dossier = dossier_in(status, superofficer, procedure)
    before_events = dossier.events.count()
    before = Dossier.objects.get(pk=dossier.pk)
    call = services.ACTION_FUNCTIONS[action]
    if workflow.is_allowed(action, status):
        after = call(dossier, superofficer, **valid_kwargs(action, dossier))
        expected = workflow.ACTIONS[action].target or status
        assert after.status == expected
        assert after.version == before.version + 1
        event = after.events.order_by("-id").first()
        assert (event.action, event.from_status, event.to_status) == (action, status, expected)
        assert event.actor == superofficer
    else:
        with pytest.raises(services.ActionNotAllowed) as exc_info:
            call(dossier, superofficer, **valid_kwargs(action, dossier))
        assert "Không thể" in exc_info.value.message and before.get_status_display() in exc_info.value.message
        unchanged = Dossier.objects.get(pk=dossier.pk)
        assert (unchanged.status, unchanged.version) == (before.status, before.version)
        assert dossier.events.count() == before_events


def test_the_table_has_no_exit_from_final_statuses():
    """A closed dossier keeps its status: only a new QR receipt (the status unchanged) is still issued."""
    for status in workflow.FINAL_STATUSES:
        assert [a.key for a in workflow.available_actions(status)] == ["reissue_token"]
        assert all(a.target is None for a in workflow.available_actions(status))


def test_a_stale_form_changes_nothing(officers):
    dossier = receive(officers["reception"])
    seen_version = dossier.version
    services.hand_over(dossier, officers["reception"], to_department=officers["specialist"].department)
    with pytest.raises(services.StaleDossier, match="vừa được người khác cập nhật"):
        services.withdraw(dossier, officers["reception"], reason="Công dân xin rút", expected_version=seen_version)
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROGRESS


def test_a_reception_officer_cannot_sign_a_result(officers):
    dossier = receive(officers["reception"])
    with pytest.raises(services.ActionForbidden, match="không có quyền"):
        services.mark_result_ready(dossier, officers["reception"], result="Giấy khai sinh")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED


def test_a_specialist_acts_only_on_their_departments_dossiers(officers, other_department):
    dossier = receive(officers["reception"])
    services.hand_over(dossier, officers["reception"], to_department=other_department)
    with pytest.raises(services.ActionForbidden, match="chỉ dành cho phòng ban đang giữ hồ sơ"):
        services.request_supplement(
            dossier, officers["specialist"], items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")]
        )


def test_the_supplement_request_needs_every_item_with_a_reason(officers):
    dossier = receive(officers["reception"])
    with pytest.raises(services.InvalidInput, match="liệt kê đầy đủ"):
        services.request_supplement(dossier, officers["reception"], items=[])
    with pytest.raises(services.InvalidInput, match="phải có lý do"):
        services.request_supplement(dossier, officers["reception"], items=[services.MissingItem("Tờ khai", "")])
    assert Dossier.objects.get(pk=dossier.pk).status == Status.ACCEPTED


def test_intake_refuses_an_incomplete_dossier_and_a_bad_phone(officers):
    procedure = ProcedureFactory()
    with pytest.raises(services.InvalidInput, match="chưa đủ thành phần bắt buộc: Giấy chứng sinh"):
        services.receive_dossier(
            officer=officers["reception"],
            procedure=procedure,
            applicant=services.Applicant("Nguyễn Văn An"),
            components=[services.SubmittedComponent("Tờ khai", "original")],
        )
    with pytest.raises(services.InvalidInput, match="Số điện thoại"):
        receive(officers["reception"], procedure, phone="12345")
    assert not Dossier.objects.exists()


def test_timeline_rows_cannot_be_changed_or_deleted(officers):
    dossier = receive(officers["reception"])
    event = dossier.events.get()
    event.citizen_note = "sửa"
    with pytest.raises(Exception, match="không được sửa"):
        event.save()
    with pytest.raises(Exception, match="không được xóa"):
        event.delete()
    # The database refuses too, whatever the code path.
    with pytest.raises(Exception, match="append-only"):
        DossierEvent.objects.filter(pk=event.pk).update(internal_note="sửa")


def test_hand_over_grades_the_step_that_ended(officers):
    procedure = ProcedureFactory(processing_days=5)
    dossier = receive(officers["reception"], procedure)
    later = timezone.now() + timedelta(days=30)
    with services.backdated(later):
        services.hand_over(dossier, officers["reception"], to_department=officers["specialist"].department)
    event = dossier.events.order_by("-id").first()
    assert event.step_grade == "late"  # the counter's step was due within one working day
    assert event.from_officer == officers["reception"] and event.to_department == officers["specialist"].department
