"""Officers' API: authenticated, tenant-scoped, permission-checked, through the same services."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from dossiers.models import Dossier, Status
from dossiers.tests.factories import ProcedureFactory, receive

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}


def token_client(officer):
    token, _ = Token.objects.get_or_create(user=officer.user)
    return Client(HTTP_AUTHORIZATION=f"Token {token.key}")


def test_anonymous_callers_are_refused_with_a_json_error(in_danang):
    response = Client().get("/api/v1/dossiers/", **HOST)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Client().get("/api/v1/procedures/", **HOST).status_code == 401


def test_a_token_of_one_province_opens_nothing_in_another(reception, camau):
    client = token_client(reception)
    assert client.get("/api/v1/dossiers/", **HOST).status_code == 200
    response = client.get("/api/v1/dossiers/", HTTP_HOST="camau.localhost")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_officers_list_filter_and_retrieve_dossiers(reception):
    first = receive(reception, name="Nguyễn Văn Đức")
    receive(reception, name="Trần Thị Bích")
    client = token_client(reception)
    listing = client.get("/api/v1/dossiers/", {"q": "nguyen van duc"}, **HOST).json()
    assert [d["code"] for d in listing["results"]] == [first.code]
    detail = client.get(f"/api/v1/dossiers/{first.pk}/", **HOST).json()
    assert detail["applicant_phone"] == "0905123456"  # officers see the full record
    assert [e["action"] for e in detail["events"]] == ["receive"]
    assert "hand_over" in detail["available_actions"] and "mark_result_ready" not in detail["available_actions"]
    assert client.get("/api/v1/dossiers/", {"status": 2, "worklist": "mine"}, **HOST).json()["count"] == 2


def test_the_catalogue_lists_procedures_with_components(reception):
    ProcedureFactory(code="1.001193")
    body = token_client(reception).get("/api/v1/procedures/", **HOST).json()
    procedure = next(p for p in body["results"] if p["code"] == "1.001193")
    assert [c["name"] for c in procedure["components"]] == ["Tờ khai", "Giấy chứng sinh", "Văn bản ủy quyền"]


def test_workflow_actions_go_through_the_services(reception, specialist):
    dossier = receive(reception)
    client = token_client(reception)
    url = f"/api/v1/dossiers/{dossier.pk}/actions/"
    response = client.post(
        url + "hand_over/",
        {"version": dossier.version, "to_department": specialist.department.code, "to_officer": "chuyenvien.test"},
        "application/json",
        **HOST,
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == Status.IN_PROGRESS
    assert response.json()["events"][-1]["to_officer"] == "chuyenvien.test"

    stale = client.post(url + "withdraw/", {"version": dossier.version, "reason": "x"}, "application/json", **HOST)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_dossier"
    forbidden = client.post(
        url + "mark_result_ready/", {"version": dossier.version + 1, "result": "x"}, "application/json", **HOST
    )
    assert forbidden.status_code == 403 and "quyền" in forbidden.json()["error"]["message"]
    not_allowed = client.post(url + "return_result/", {"version": dossier.version + 1}, "application/json", **HOST)
    assert not_allowed.status_code == 409  # reception may return results, but not while in progress
    assert not_allowed.json()["error"]["code"] == "transition_not_allowed"
    assert Dossier.objects.get(pk=dossier.pk).status == Status.IN_PROGRESS


def test_a_forbidden_transition_is_a_409_with_a_vietnamese_message(reception):
    dossier = receive(reception)
    response = token_client(reception).post(
        f"/api/v1/dossiers/{dossier.pk}/actions/return_result/",
        {"version": dossier.version},
        "application/json",
        **HOST,
    )
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "transition_not_allowed",
        "message": "Không thể “Trả kết quả” khi hồ sơ đang ở trạng thái “Được tiếp nhận”.",
    }


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("request_supplement", {}, "invalid_input"),
        ("hand_over", {"to_department": "KHONG-CO"}, "invalid_input"),
        ("postpone", {"new_date": "31/12/2026", "reason": "x"}, "invalid_input"),
        ("nope", {}, "unknown_action"),
    ],
)
def test_bad_action_input_is_refused_clearly(reception, action, body, code):
    dossier = receive(reception)
    response = token_client(reception).post(
        f"/api/v1/dossiers/{dossier.pk}/actions/{action}/",
        {"version": dossier.version, **body},
        "application/json",
        **HOST,
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == code
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version


def test_a_specialist_cannot_see_other_departments_dossiers(reception, specialist, other_department):
    from dossiers import services

    dossier = receive(reception)
    services.hand_over(dossier, reception, to_department=other_department)
    client = token_client(specialist)
    assert client.get(f"/api/v1/dossiers/{dossier.pk}/", **HOST).status_code == 404
    assert client.get("/api/v1/dossiers/", **HOST).json()["count"] == 0


def test_the_openapi_schema_validates(in_danang):
    from drf_spectacular.validation import validate_schema

    response = Client().get("/api/schema/", {"format": "json"}, **HOST)
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert {"/api/v1/lookup/", "/api/v1/lookup/{token}/", "/api/v1/dossiers/"} <= set(schema["paths"])
    assert Client().get("/api/docs/", **HOST).status_code == 200


def test_schema_is_the_same_for_every_province(in_danang, camau):
    danang_schema = Client().get("/api/schema/", {"format": "json"}, **HOST).json()
    with tenant_context(camau):
        camau_schema = Client().get("/api/schema/", {"format": "json"}, HTTP_HOST="camau.localhost").json()
    assert danang_schema["paths"].keys() == camau_schema["paths"].keys()
