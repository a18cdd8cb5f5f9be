"""Seeing is not acting: who may perform each action is in the transition table, and the services,
the admin and the API all enforce (and offer) exactly that.

The one-stop shop (reception) may see every dossier of the province; these tests try to use that
view to act on a dossier the police department holds, and walk every action against every role in
every department."""

import pytest
from django.db import transaction
from rest_framework.authtoken.models import Token

from dossiers import services, workflow
from dossiers.models import Dossier, Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from offices.tests.factories import DepartmentFactory, OfficerFactory

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
ROLES = ("reception", "specialist", "leader", "province_admin")
PLACES = ("counter", "police", "ward")


@pytest.fixture
def police(in_danang):
    return DepartmentFactory(code="CAT", name="Công an tỉnh")


@pytest.fixture
def staff(reception_desk, police, ward):
    """One officer per role in each place: the counter, the police (holder), the ward (neither)."""
    departments = {"counter": reception_desk, "police": police, "ward": ward}
    return {
        (role, place): OfficerFactory(role=role, department=departments[place], user__username=f"{role}.{place}")
        for role in ROLES
        for place in PLACES
    }


def held_by_police(status, staff, police):
    """A fresh dossier of a police procedure, at the police department, in `status`."""
    procedure = ProcedureFactory(department=police)
    counter, specialist, leader = (
        staff["reception", "counter"],
        staff["specialist", "police"],
        staff["leader", "police"],
    )
    if status == Status.REGISTERED:  # online: waits at the procedure's department for the counter
        return services.register_online(
            procedure=procedure, applicant=services.Applicant("Lê Thị Hoa"), components=all_components(procedure)
        )
    dossier = services.hand_over(receive(counter, procedure), counter, to_department=police)
    if status == Status.SUPPLEMENT:
        dossier = services.request_supplement(dossier, specialist, items=[services.MissingItem("Tờ khai", "Mờ")])
    elif status == Status.FEES:
        dossier = services.request_fees(dossier, specialist, amount=50_000)
    elif status == Status.RESULT_READY:
        dossier = services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 1")
    assert (dossier.status, dossier.current_department) == (status, police)
    return dossier


def kwargs_for(action, dossier):
    from dossiers.tests.test_workflow import valid_kwargs

    return valid_kwargs(action, dossier)


# The specification, written out (not derived from the code): for a dossier HELD BY THE POLICE,
# which (role, place) may perform each action. Specialists and leaders who sit at the counter get
# what the counter does with their permissions (supplements and fees brought to the counter).
COUNTER_RECEPTION = {("reception", "counter")}
POLICE_WORKERS = {("reception", "police"), ("specialist", "police"), ("leader", "police")}
AT_COUNTER_OR_HOLDER = POLICE_WORKERS | {("reception", "counter"), ("specialist", "counter"), ("leader", "counter")}
EXPECTED = {
    "accept": COUNTER_RECEPTION,
    "refuse": COUNTER_RECEPTION,
    "hand_over": POLICE_WORKERS,
    "request_supplement": POLICE_WORKERS,
    "receive_supplement": AT_COUNTER_OR_HOLDER,
    "request_fees": AT_COUNTER_OR_HOLDER,
    "record_fees_paid": AT_COUNTER_OR_HOLDER,
    "postpone": {("specialist", "police"), ("leader", "police")},
    "stop": {("leader", "police")},
    "mark_result_ready": {("leader", "police")},
    "return_result": COUNTER_RECEPTION,
    "withdraw": COUNTER_RECEPTION,
    "reissue_token": COUNTER_RECEPTION,
}
SOURCE = {
    "accept": Status.REGISTERED,
    "refuse": Status.REGISTERED,
    "receive_supplement": Status.SUPPLEMENT,
    "record_fees_paid": Status.FEES,
    "return_result": Status.RESULT_READY,
}


class _Undo(Exception):
    pass


def attempt(action, dossier, officer):
    """Perform the action for real, then undo it: the outcome, and whether the dossier moved."""
    before = Dossier.objects.get(pk=dossier.pk)
    try:
        with transaction.atomic():
            after = services.ACTION_FUNCTIONS[action](dossier, officer, **kwargs_for(action, before))
            assert after.version == before.version + 1
            raise _Undo
    except _Undo:
        return "done"
    except services.ActionForbidden as exc:
        unchanged = Dossier.objects.get(pk=dossier.pk)
        assert (unchanged.status, unchanged.version) == (before.status, before.version)
        return exc.message


def test_view_permission_never_grants_an_action(staff, police):
    assert set(EXPECTED) == set(workflow.ACTIONS)
    for action in workflow.ACTIONS:
        dossier = held_by_police(SOURCE.get(action, Status.IN_PROGRESS), staff, police)
        for (role, place), officer in staff.items():
            allowed = (role, place) in EXPECTED[action]
            outcome = attempt(action, dossier, officer)
            assert (outcome == "done") == allowed, (action, role, place, outcome)
            # What the admin and the API offer is exactly what the services let through.
            offered = action in [a.key for a in workflow.actions_for(officer, dossier)]
            assert offered == allowed, (action, role, place)
    # Those who may see every dossier (the counter, the province admin) could act on none by seeing.
    assert staff["province_admin", "counter"].user.has_perm("dossiers.view_all_dossiers")
    assert (
        workflow.actions_for(staff["province_admin", "counter"], held_by_police(Status.IN_PROGRESS, staff, police))
        == []
    )


def test_reception_cannot_request_supplement_on_a_police_dossier(staff, police):
    dossier = held_by_police(Status.IN_PROGRESS, staff, police)
    reception = staff["reception", "counter"]
    assert reception.user.has_perm("dossiers.view_all_dossiers")  # it may see the dossier …
    with pytest.raises(services.ActionForbidden, match="chỉ dành cho phòng ban đang giữ hồ sơ"):
        services.request_supplement(
            dossier, reception, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")], reason="Bổ sung"
        )
    unchanged = Dossier.objects.get(pk=dossier.pk)
    assert (unchanged.status, unchanged.version) == (Status.IN_PROGRESS, dossier.version)
    assert not unchanged.supplement_requests.exists() and unchanged.events.count() == 2
    # … and while the dossier was still at the counter, the counter (its holder then) could.
    at_counter = receive(reception, ProcedureFactory(department=police))
    services.request_supplement(at_counter, reception, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")])
    assert Dossier.objects.get(pk=at_counter.pk).status == Status.SUPPLEMENT


def test_reception_cannot_withdraw_unless_at_the_counter(staff, police, ward):
    """Withdrawal is filed at the counter (the citizen's written request): the police holding the
    dossier cannot withdraw it, nor can a "reception" officer posted outside a one-stop shop."""
    dossier = held_by_police(Status.IN_PROGRESS, staff, police)
    attackers = {
        staff["reception", "police"]: "chỉ dành cho bộ phận một cửa",
        staff["reception", "ward"]: "chỉ dành cho bộ phận một cửa",
        staff["leader", "police"]: "không có quyền",
    }
    for officer, message in attackers.items():
        with pytest.raises(services.ActionForbidden, match=message):
            services.withdraw(dossier, officer, reason="Tự ý rút hồ sơ")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROGRESS
    services.withdraw(dossier, staff["reception", "counter"], reason="Đơn xin rút hồ sơ của công dân")
    assert Dossier.objects.get(pk=dossier.pk).status == Status.WITHDRAWN


def test_an_officer_less_account_is_never_the_system(staff, police):
    procedure = ProcedureFactory(department=police)
    applicant = services.Applicant("Nguyễn Văn An")
    with pytest.raises(services.ActionForbidden, match="chưa có hồ sơ cán bộ"):
        services.receive_dossier(officer=None, procedure=procedure, applicant=applicant, components=[])
    dossier = held_by_police(Status.IN_PROGRESS, staff, police)
    for action in workflow.ACTIONS:
        with pytest.raises(services.ActionForbidden, match="chưa có hồ sơ cán bộ"):
            services.ACTION_FUNCTIONS[action](dossier, None, **kwargs_for(action, dossier))
    assert Dossier.objects.count() == 1 and Dossier.objects.get().version == dossier.version
    # Only the documented SYSTEM actor (commands, citizen-initiated paths) acts on no officer's behalf.
    received = services.receive_dossier(
        officer=services.SYSTEM, procedure=procedure, applicant=applicant, components=all_components(procedure)
    )
    assert received.events.get().actor is None and received.current_department == police


def _token_client(officer):
    from django.test import Client

    token, _created = Token.objects.get_or_create(user=officer.user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_api_action_by_non_holder_is_refused(staff, police):
    dossier = held_by_police(Status.IN_PROGRESS, staff, police)
    reception = _token_client(staff["reception", "counter"])
    detail = reception.get(f"/api/v1/dossiers/{dossier.pk}/", **HOST)
    assert detail.status_code == 200  # the counter sees it …
    assert sorted(detail.json()["available_actions"]) == ["reissue_token", "request_fees", "withdraw"]  # … only these
    response = reception.post(
        f"/api/v1/dossiers/{dossier.pk}/actions/request_supplement/",
        {"version": dossier.version, "items": [{"name": "Tờ khai", "reason": "Thiếu chữ ký"}]},
        "application/json",
        **HOST,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "chỉ dành cho phòng ban đang giữ hồ sơ" in response.json()["error"]["message"]
    # The police specialist holds it: not the leader's signature, though.
    police_specialist = _token_client(staff["specialist", "police"])
    signed = police_specialist.post(
        f"/api/v1/dossiers/{dossier.pk}/actions/mark_result_ready/",
        {"version": dossier.version, "result": "Tự ký"},
        "application/json",
        **HOST,
    )
    assert signed.status_code == 403 and signed.json()["error"]["code"] == "forbidden"
    unchanged = Dossier.objects.get(pk=dossier.pk)
    assert (unchanged.status, unchanged.version) == (Status.IN_PROGRESS, dossier.version)
