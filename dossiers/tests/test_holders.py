"""Holders that make sense (issue 11.3): the current officer, if any, belongs to the current department,
after every action; the public page names the holder (officer, title, department) of an open dossier
and nobody for a closed one.

Random walks over the services: at each step one of the actions some officer may perform now (as the
admin and the API offer them), by officers of a one-stop-shop and of two processing departments."""

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossiers import lookup, services, workflow
from dossiers.calendars import current_calendar
from dossiers.models import Dossier
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.tests.factories import DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


@pytest.fixture
def staff(reception, specialist, leader, ward, reception_desk):
    police = DepartmentFactory(code="CA", name="Công an phường")
    return [
        reception,
        OfficerFactory(role="reception", department=reception_desk, title="Chuyên viên một cửa"),
        specialist,
        leader,
        OfficerFactory(role="specialist", department=police, title="Cán bộ hộ tịch"),
        OfficerFactory(role="leader", department=police, title="Trưởng công an phường"),
    ]


def renamed(officer, last_name, first_name, title=None):
    officer.user.last_name, officer.user.first_name = last_name, first_name
    officer.user.save()
    if title:
        officer.title = title
        officer.save()
    return officer


def assert_holder_agrees(dossier):
    dossier = Dossier.objects.select_related("current_officer", "current_department").get(pk=dossier.pk)
    officer = dossier.current_officer
    assert officer is None or officer.department_id == dossier.current_department_id, (
        f"{dossier.get_status_display()}: {officer} ({officer.department}) held in {dossier.current_department}"
    )
    holder = lookup.public_status(dossier)["holder"]
    if not dossier.is_open:
        assert holder is None
    else:
        assert holder["department"] == str(dossier.current_department)
        assert holder["officer"] == (officer.full_name if officer else None)
        assert holder["title"] == (officer.title if officer else None)
    return dossier


def kwargs_for(action, dossier, staff, data):
    departments = sorted({o.department for o in staff}, key=lambda d: d.pk)
    if action == "hand_over":
        department = data.draw(st.sampled_from(departments))
        candidates = [None, *[o for o in staff if o.department_id == department.pk]]
        return {"to_department": department, "to_officer": data.draw(st.sampled_from(candidates))}
    if action == "postpone":
        start = dossier.appointment_date or timezone.localdate()
        return {"new_date": current_calendar().add_working_days(start, data.draw(st.integers(1, 3))), "reason": "x"}
    return {
        "accept": {},
        "refuse": {"reason": "Sai thẩm quyền"},
        "request_supplement": {"items": [services.MissingItem("Giấy chứng sinh", "Bản mờ")]},
        "receive_supplement": {},
        "request_fees": {"amount": 100_000},
        "record_fees_paid": {},
        "stop": {"reason": "Theo đề nghị"},
        "mark_result_ready": {"result": "Kết quả số 2"},
        "return_result": {},
        "withdraw": {"reason": "Công dân xin rút"},
    }.get(action, {})


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_holders_officer_always_belongs_to_the_holders_department(staff, data):
    procedure = ProcedureFactory(processing_days=data.draw(st.integers(0, 5)))
    if data.draw(st.booleans()):
        dossier = services.register_online(
            procedure=procedure, applicant=services.Applicant("Lê Thị Hoa"), components=all_components(procedure)
        )
    else:
        dossier = receive(data.draw(st.sampled_from(staff[:2])), procedure)
    dossier = assert_holder_agrees(dossier)
    for _ in range(data.draw(st.integers(1, 10))):
        moves = [(o, a.key) for o in staff for a in workflow.actions_for(o, dossier)]
        if not moves:
            break
        officer, action = data.draw(st.sampled_from(moves))
        services.ACTION_FUNCTIONS[action](dossier, officer, **kwargs_for(action, dossier, staff, data))
        dossier = assert_holder_agrees(dossier)


def test_after_return_nobody_from_the_counter_is_shown_in_the_processing_department(officers):
    """The reported case: returned by the counter, the dossier named the counter officer in the ward."""
    reception, specialist, leader = officers["reception"], officers["specialist"], officers["leader"]
    dossier = receive(reception)
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    ready = services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 7")
    assert (ready.current_department, ready.current_officer) == (specialist.department, None)
    returned = services.return_result(dossier, reception)
    assert returned.current_officer is None and returned.current_department == specialist.department
    event = returned.events.get(action="return_result")
    assert event.actor == reception  # who handed the result over is on the record


def test_the_status_page_names_the_holder_of_an_open_dossier_only(officers, django_capture_on_commit_callbacks):
    reception, specialist, leader = officers["reception"], officers["specialist"], officers["leader"]
    renamed(reception, "Trần Thị", "Bình")
    renamed(specialist, "Lê Văn", "Cường", title="Chuyên viên hộ tịch")
    dossier = receive(reception)
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    html = Client().get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).content.decode()
    assert specialist.full_name in html and "Chuyên viên hộ tịch" in html and str(specialist.department) in html
    assert reception.full_name not in html.split("Đang xử lý tại", 1)[1].split("</dl>", 1)[0]

    with django_capture_on_commit_callbacks(execute=True):  # the cached page is dropped after each commit
        services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 7")
        services.return_result(dossier, reception)
    html = Client().get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).content.decode()
    assert "Đang xử lý tại" not in html
    assert specialist.full_name not in html and reception.full_name not in html


def test_an_officer_moved_to_another_department_is_not_shown_as_holder(officers, other_department):
    """Data changed outside the services (an officer transferred): the page never shows a mismatch."""
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = receive(reception)
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    ward = specialist.department
    specialist.department = other_department
    specialist.save()
    holder = lookup.public_status(Dossier.objects.get(pk=dossier.pk))["holder"]
    assert holder == {"department": str(ward), "officer": None, "title": None}
