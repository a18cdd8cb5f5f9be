"""One place per action: every action in `workflow.REGISTRY` is reachable from the admin and the API,
sends the message it names, and shows on the citizen's timeline exactly when it says so.

The expectations below are written out (the specification); the code's tables are derived from the
registry, so a new action that is missing from any surface fails here."""

import inspect

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from conftest import otp_login
from dossiers import forms, lookup, services, workflow
from dossiers.calendars import current_calendar
from dossiers.models import Dossier, DossierEvent, Status
from dossiers.tests.factories import ProcedureFactory, all_components, receive
from notifications.models import Notification

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}

# The specification of each action's surfaces, written out.
DOSSIER_ACTIONS = {
    "accept",
    "refuse",
    "hand_over",
    "request_supplement",
    "receive_supplement",
    "request_fees",
    "record_fees_paid",
    "postpone",
    "stop",
    "mark_result_ready",
    "return_result",
    "withdraw",
    "reissue_token",
}
MESSAGES = {
    "receive": "receipt",
    "accept": "receipt",
    "request_supplement": "supplement",
    "receive_supplement": "new_appointment",
    "postpone": "apology",
    "mark_result_ready": "result_ready",  # graded early: result_early
}
HIDDEN_FROM_CITIZEN = {"reissue_token"}


def test_the_registry_is_the_specification():
    assert set(workflow.ACTIONS) == DOSSIER_ACTIONS
    assert set(workflow.REGISTRY) == DOSSIER_ACTIONS | {"receive", "register"}
    assert workflow.HIDDEN_FROM_CITIZEN == HIDDEN_FROM_CITIZEN
    sent = {key for key, spec in workflow.REGISTRY.items() if spec.message}
    assert sent == set(MESSAGES)


@pytest.mark.parametrize("key", sorted(workflow.REGISTRY))
def test_each_action_names_a_real_function_form_and_fields(key):
    spec = workflow.REGISTRY[key]
    function = getattr(services, spec.service_name)
    parameters = inspect.signature(function).parameters
    assert str(spec.label) and workflow.label_of(key) == str(spec.label)
    # Everything the API passes on is a parameter of the service (no silently dropped field).
    assert set(spec.fields) <= set(parameters), set(spec.fields) - set(parameters)
    assert set(spec.required) <= set(spec.fields)
    if spec.entry != workflow.ON_DOSSIER:
        return
    assert services.ACTION_FUNCTIONS[key] is function
    form = forms.form_for(key)
    assert issubclass(form, forms.ActionForm)
    assert "expected_version" in parameters


def _stage(officers, status, procedure):
    """A dossier in `status`, held by the specialist's department where it is being worked on."""
    reception, specialist, leader = officers["reception"], officers["specialist"], officers["leader"]
    if status == Status.REGISTERED:
        return services.register_online(
            procedure=procedure,
            applicant=services.Applicant("Lê Thị Hoa", id_number="048090001234", phone="0905123456"),
            components=all_components(procedure),
        )
    dossier = receive(reception, procedure)
    if status == Status.ACCEPTED:
        return dossier
    dossier = services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    if status == Status.SUPPLEMENT:
        dossier = services.request_supplement(
            dossier, specialist, items=[services.MissingItem("Tờ khai", "Thiếu chữ ký")]
        )
    elif status == Status.FEES:
        dossier = services.request_fees(dossier, specialist, amount=50_000)
    elif status == Status.RESULT_READY:
        dossier = services.mark_result_ready(dossier, leader, result="Giấy xác nhận số 1")
    assert dossier.status == status
    return dossier


STAGE_ORDER = [Status.IN_PROGRESS, Status.REGISTERED, Status.SUPPLEMENT, Status.FEES, Status.RESULT_READY]


def _setting(key, officers):
    spec = workflow.ACTIONS[key]
    status = next(s for s in STAGE_ORDER if s in spec.sources)
    procedure = ProcedureFactory(department=officers["specialist"].department)
    dossier = _stage(officers, status, procedure)
    performer = next(o for o in officers.values() if workflow.may_perform(o, key, dossier))
    return dossier, performer


def _api_body(key, dossier, officers):
    new_date = current_calendar().add_working_days(dossier.appointment_date, 3) if dossier.appointment_date else None
    return {
        "refuse": {"reason": "Không thuộc thẩm quyền"},
        "hand_over": {"to_department": officers["specialist"].department.code},
        "request_supplement": {"items": [{"name": "Giấy chứng sinh", "reason": "Bản mờ"}]},
        "request_fees": {"amount": 100_000},
        "postpone": {"new_date": f"{new_date:%Y-%m-%d}" if new_date else "", "reason": "Chờ xác minh"},
        "stop": {"reason": "Hết hạn bổ sung"},
        "mark_result_ready": {"result": "Giấy xác nhận số 2"},
        "withdraw": {"reason": "Công dân xin rút"},
    }.get(key, {})


def _admin_data(key, dossier, officers, form):
    new_date = current_calendar().add_working_days(dossier.appointment_date, 3) if dossier.appointment_date else None
    data = {
        "refuse": {"reason": "Không thuộc thẩm quyền"},
        "hand_over": {"to_department": officers["specialist"].department.pk},
        "request_supplement": {"other_items": "Giấy chứng sinh: bản mờ"},
        "request_fees": {"amount": 100_000},
        "postpone": {"new_date": f"{new_date:%d/%m/%Y}" if new_date else "", "reason": "Chờ xác minh"},
        "stop": {"reason": "Hết hạn bổ sung"},
        "mark_result_ready": {"result": "Giấy xác nhận số 2"},
        "withdraw": {"reason": "Công dân xin rút"},
    }.get(key, {})
    data = {"version": dossier.version, **data}
    # What a supplement's receipt asks for: every item ticked, with its initial count.
    for name, field in form.fields.items():
        if name in data:
            continue
        if field.__class__.__name__ == "BooleanField" and key == "receive_supplement":
            data[name] = "on"
        elif field.__class__.__name__ == "IntegerField" and form.initial.get(name, field.initial) is not None:
            data[name] = form.initial.get(name, field.initial)
    return data


def _check_outcome(key, dossier, performer):
    event = DossierEvent.objects.filter(dossier=dossier).order_by("-id").first()
    assert (event.action, event.actor) == (key, performer)
    expected = workflow.message_kind(key, event.dossier)
    kinds = set(Notification.objects.filter(event=event).values_list("kind", flat=True))
    assert kinds == ({expected} if expected else set())
    if key in MESSAGES:
        assert expected is not None
    timeline = [entry["action"] for entry in lookup.public_status(event.dossier)["timeline"]]
    assert (str(workflow.REGISTRY[key].label) in timeline) == (key not in HIDDEN_FROM_CITIZEN)


@pytest.mark.parametrize("key", sorted(DOSSIER_ACTIONS))
def test_each_action_is_offered_and_done_through_the_admin(key, officers):
    dossier, performer = _setting(key, officers)
    client = Client(**HOST)
    otp_login(client, performer.user)
    change = client.get(reverse("admin:dossiers_dossier_change", args=[dossier.pk]))
    url = reverse("admin:dossiers_dossier_action", args=[dossier.pk, key])
    assert change.status_code == 200 and url in change.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert type(form) is forms.form_for(key)
    response = client.post(url, _admin_data(key, dossier, officers, form))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    _check_outcome(key, dossier, performer)


@pytest.mark.parametrize("key", sorted(DOSSIER_ACTIONS))
def test_each_action_is_offered_and_done_through_the_api(key, officers):
    dossier, performer = _setting(key, officers)
    token, _created = Token.objects.get_or_create(user=performer.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    detail = client.get(f"/api/v1/dossiers/{dossier.pk}/").json()
    assert key in detail["available_actions"]
    body = {"version": dossier.version, **_api_body(key, dossier, officers)}
    response = client.post(f"/api/v1/dossiers/{dossier.pk}/actions/{key}/", body, "application/json")
    assert response.status_code == 200, response.json()
    _check_outcome(key, dossier, performer)


@pytest.mark.parametrize("key", sorted(key for key in DOSSIER_ACTIONS if workflow.ACTIONS[key].required))
def test_the_api_refuses_an_action_without_its_required_fields(key, officers):
    dossier, performer = _setting(key, officers)
    token, _created = Token.objects.get_or_create(user=performer.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    events = DossierEvent.objects.filter(dossier=dossier).count()
    response = client.post(
        f"/api/v1/dossiers/{dossier.pk}/actions/{key}/", {"version": dossier.version}, "application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert DossierEvent.objects.filter(dossier=dossier).count() == events


def test_the_api_schema_lists_exactly_the_registry(officers):
    token, _created = Token.objects.get_or_create(user=officers["reception"].user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    (path,) = [p for p in schema.json()["paths"] if "actions" in p]
    (name,) = [p for p in schema.json()["paths"][path]["post"]["parameters"] if p["name"] == "name"]
    assert set(name["schema"]["enum"]) == DOSSIER_ACTIONS


def _intake(officer, body):
    token, _created = Token.objects.get_or_create(user=officer.user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    return client.post("/api/v1/dossiers/", body, "application/json")


def _intake_body(procedure, changes):
    body = {
        "procedure": procedure.code,
        "applicant": {"name": "Trần Thị Mai", "id_number": "048090001234", "phone": "0905123456"},
        "components": [{"name": c.name, "count": 1} for c in procedure.components.filter(required=True)],
        "internal_note": "Trình lãnh đạo ký",
    }
    return {**body, **changes}


def test_counter_intake_through_the_api_is_the_registry_receive(officers):
    procedure = ProcedureFactory()
    response = _intake(officers["reception"], _intake_body(procedure, {}))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == Status.ACCEPTED and [e["action"] for e in body["events"]] == ["receive"]
    dossier = Dossier.objects.get(code=body["code"])
    assert dossier.procedure == procedure and dossier.applicant_phone == "0905123456"
    assert sorted(dossier.components.values_list("name", flat=True)) == ["Giấy chứng sinh", "Tờ khai"]
    _check_outcome("receive", dossier, officers["reception"])
    assert dossier.events.get().internal_note == "Trình lãnh đạo ký"


@pytest.mark.parametrize(
    ("who", "changes", "http_status", "words"),
    [
        ("specialist", {}, 403, "không có quyền"),
        ("reception", {"components": [{"name": "Tờ khai", "count": 1}]}, 400, "Giấy chứng sinh"),
        ("reception", {"components": [{"name": "Sổ đỏ giả", "count": 1}]}, 400, "Sổ đỏ giả"),
        ("reception", {"procedure": "9.999999"}, 400, ""),
        ("reception", {"applicant": {"name": "  "}}, 400, ""),
        ("reception", {"applicant": {"name": "An", "phone": "12"}}, 400, ""),
    ],
    ids=["not-the-counter", "missing-required", "unknown-component", "unknown-procedure", "no-name", "bad-phone"],
)
def test_a_refused_api_intake_writes_nothing(officers, who, changes, http_status, words):
    procedure = ProcedureFactory()
    response = _intake(officers[who], _intake_body(procedure, changes))
    assert response.status_code == http_status, response.json()
    assert words in str(response.json())
    assert not Dossier.objects.exists() and not DossierEvent.objects.exists()


def _waiting_for_two_papers(officers):
    procedure = ProcedureFactory(department=officers["specialist"].department)
    dossier = _stage(officers, Status.IN_PROGRESS, procedure)
    items = [services.MissingItem("Giấy chứng sinh", "Bản mờ"), services.MissingItem("Sổ hộ khẩu", "Thiếu trang 2")]
    return services.request_supplement(dossier, officers["specialist"], items=items)


def test_a_supplement_missing_a_paper_is_refused_by_the_service_whatever_the_door(officers):
    """The rule "everything asked, once" is the service's: the API cannot bypass the admin's ticks."""
    dossier = _waiting_for_two_papers(officers)
    token, _created = Token.objects.get_or_create(user=officers["specialist"].user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    url = f"/api/v1/dossiers/{dossier.pk}/actions/receive_supplement/"
    partial = {"version": dossier.version, "components": [{"name": "Giấy chứng sinh", "count": 1}]}
    response = client.post(url, partial, "application/json")
    assert response.status_code == 400 and "Sổ hộ khẩu" in response.json()["error"]["message"]
    dossier.refresh_from_db()
    assert dossier.status == Status.SUPPLEMENT and not dossier.components.filter(added_by_supplement=True).exists()
    with pytest.raises(services.InvalidInput, match="Sổ hộ khẩu"):
        services.receive_supplement(
            dossier, officers["reception"], components=[services.SubmittedComponent("Giấy chứng sinh", "original")]
        )
    both = [{"name": "Giấy chứng sinh", "count": 2}, {"name": "Sổ hộ khẩu", "count": 1}]
    response = client.post(url, {"version": dossier.version, "components": both}, "application/json")
    assert response.status_code == 200, response.json()
    received = dossier.components.filter(added_by_supplement=True)
    assert sorted(received.values_list("name", "count")) == [("Giấy chứng sinh", 2), ("Sổ hộ khẩu", 1)]


def test_a_supplement_received_without_a_list_records_each_paper_as_asked(officers):
    dossier = _waiting_for_two_papers(officers)
    dossier = services.receive_supplement(dossier, officers["reception"])
    assert dossier.status == Status.IN_PROGRESS
    received = dossier.components.filter(added_by_supplement=True)
    assert sorted(received.values_list("name", "kind")) == [
        ("Giấy chứng sinh", "original"),
        ("Sổ hộ khẩu", "original_or_copy"),
    ]
