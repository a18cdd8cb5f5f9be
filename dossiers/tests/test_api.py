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


# --- bounds and JSON errors (issue 9, part 6): written as the attacks ----------------------------------


def many_dossiers(reception, count):
    """``count`` dossiers of Đà Nẵng: one received at the counter, the rest copies with their own codes."""
    first = receive(reception, name="Lê Thị Mai", id_number="048190009999", phone="0912000111")
    copies = []
    for n in range(count - 1):
        copy = Dossier.objects.get(pk=first.pk)
        copy.pk, copy.code, copy.lookup_token = None, f"{first.code}-{n:03d}", f"tok-{n:039d}"
        copies.append(copy)
    Dossier.objects.bulk_create(copies)
    return first


def test_limit_cannot_dump_the_province(reception):
    many_dossiers(reception, 120)
    client = token_client(reception)
    for limit in ("10000000", "101", "0", "-1", "1e9", "٣"):
        dump = client.get("/api/v1/dossiers/", {"limit": limit}, **HOST)
        assert dump.status_code == 400, limit
        assert dump.json()["error"]["code"] == "invalid_page" and "100" in dump.json()["error"]["message"]
        assert "048190009999" not in dump.content.decode() and "0912000111" not in dump.content.decode()
    for offset in ("99999999999999999999", "-5"):
        assert client.get("/api/v1/dossiers/", {"offset": offset}, **HOST).status_code == 400
    # Paging is the way: at most 100 a page, and a link to the next one.
    page = client.get("/api/v1/dossiers/", {"limit": 100}, **HOST).json()
    assert page["count"] == 120 and len(page["results"]) == 100 and "cursor=" in page["next"]
    rest = client.get(page["next"], **HOST).json()
    assert len(rest["results"]) == 20 and rest["next"] is None
    default = client.get("/api/v1/dossiers/", **HOST).json()
    assert len(default["results"]) == 50


def test_deeply_nested_json_is_a_400_not_a_500(reception):
    dossier = receive(reception)
    client = token_client(reception)
    for depth in (1000, 30_000, 17):  # 30,000 deep still fits in the 64 KB body limit; 17 is one too many
        bomb = "[" * depth + "]" * depth
        nested_version = '{"version": ' + "[" * depth + "1" + "]" * depth + "}"
        for url, body in (
            (f"/api/v1/dossiers/{dossier.pk}/actions/accept/", bomb),
            (f"/api/v1/dossiers/{dossier.pk}/actions/withdraw/", nested_version),
            ("/api/v1/lookup/", '{"code": ' + "{" * depth + "}" * depth + ', "verifier": "3456"}'),
        ):
            response = client.post(url, body, "application/json", **HOST)
            assert response.status_code == 400, (url, depth, response.content[:200])
            assert response.json()["error"]["code"] == "too_deeply_nested"
            assert "lồng" in response.json()["error"]["message"]
    # Reasonable nesting still works, and nothing was changed by the refused bodies.
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version
    too_big = client.post("/api/v1/lookup/", '{"code": "' + "x" * 100_000 + '"}', "application/json", **HOST)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
    nul = client.post("/api/v1/lookup/", '{"code": "A\\u0000B", "verifier": "1"}', "application/json", **HOST)
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "invalid_input"


def assert_json_error(response, status_code, code=None):
    assert response.status_code == status_code, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    error = response.json()["error"]
    assert error["message"] and (code is None or error["code"] == code), error
    assert "<html" not in response.content.decode().lower()


def test_unknown_api_path_answers_json(reception, monkeypatch, settings):
    from dossiers import lookup

    client = token_client(reception)
    anonymous = Client(raise_request_exception=False)
    for path in ("/api/", "/api/v2/dossiers/", "/api/v1/khong-co/", "/api/v1/dossiers/abc/", "/api/%00/"):
        assert_json_error(client.get(path, **HOST), 404 if "%00" not in path else 400)
    assert_json_error(anonymous.get("/api/v1/khong-co/", **HOST), 404, "not_found")
    assert_json_error(anonymous.get("/api/v1/khong-co/", HTTP_HOST="localhost"), 404, "not_found")  # national site
    assert_json_error(client.delete("/api/v1/dossiers/", **HOST), 405, "method_not_allowed")
    assert_json_error(client.post("/api/v1/lookup/", "code=1", "text/plain", **HOST), 415, "unsupported_media_type")
    settings.DEBUG = True  # Django's technical 404 page is HTML too
    assert_json_error(anonymous.get("/api/v9/", **HOST), 404, "not_found")
    settings.DEBUG = False

    # A failure outside DRF's machinery (the token lookup's GET, answered in `dispatch`) is a JSON 500,
    # not Django's page.
    def redis_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(lookup, "serve", redis_down)
    assert_json_error(anonymous.get("/api/v1/lookup/some-token/", **HOST), 500, "server_error")


def test_overlong_query_is_refused(reception):
    receive(reception)
    client = token_client(reception)
    for params in ({"q": "nguyen " * 15}, {"q": "a" * 101}, {"procedure": "x" * 500}, {"status": "2" * 101}):
        response = client.get("/api/v1/dossiers/", params, **HOST)
        assert_json_error(response, 400, "query_too_long")
        assert "quá dài" in response.json()["error"]["message"]
    many = "&".join(f"p{n}=x" for n in range(300))
    assert_json_error(client.get(f"/api/v1/dossiers/?{many}", **HOST), 400, "query_too_long")
    assert client.get("/api/v1/dossiers/", {"q": "a" * 100}, **HOST).status_code == 200
    # Odd but short values are not errors either.
    for params in ({"status": "²"}, {"status": "99999999999"}, {"worklist": "x"}, {"procedure": "💥"}):
        assert client.get("/api/v1/dossiers/", params, **HOST).status_code == 200, params


def test_serializer_fields_built_once_are_fresh_for_each_answer_and_the_same_as_drfs(reception, monkeypatch):
    from django.test import RequestFactory
    from rest_framework import serializers

    from dossiers import api

    dossier = receive(reception)
    request = RequestFactory().get("/")
    request.user = reception.user
    first = api.DossierDetailSerializer(dossier, context={"request": request})
    second = api.DossierDetailSerializer(dossier, context={"request": request})
    assert first.fields["code"] is not second.fields["code"]  # nothing bound to one answer is shared
    assert first.fields["code"].parent is first and second.fields["events"].parent is second
    built_once = first.data
    monkeypatch.setattr(api.FieldsBuiltOnce, "get_fields", serializers.ModelSerializer.get_fields)
    assert api.DossierDetailSerializer(dossier, context={"request": request}).data == built_once


def test_answers_written_through_the_shared_fields_are_drfs_for_every_officer_and_endpoint(
    reception, specialist, leader, monkeypatch
):
    """FieldsBuiltOnce.to_representation reads objects through one set of fields shared by every answer
    (and every thread): the detail, the list and the intake's answer must be exactly DRF's own, field
    by field, and what depends on the officer asking (the actions they may take) must be theirs."""
    from rest_framework import serializers

    from dossiers import api

    handed = receive(reception, name="Lê Văn Hai")
    token_client(reception).post(
        f"/api/v1/dossiers/{handed.pk}/actions/hand_over/",
        {
            "version": handed.version,
            "to_department": specialist.department.code,
            "to_officer": specialist.user.username,
        },
        "application/json",
        **HOST,
    )
    kept = receive(reception, name="Phạm Thị Ba")
    body = {
        "procedure": kept.procedure.code,
        "applicant": {"name": "Võ Văn Tư", "phone": "0905000111"},
        "components": [{"name": c.name, "count": c.count} for c in kept.components.all()],
    }

    def answers():
        seen = {}
        for officer in (reception, specialist, leader):
            client = token_client(officer)
            seen[officer.user.username] = {
                "list": client.get("/api/v1/dossiers/", **HOST).json()["results"],
                "handed": client.get(f"/api/v1/dossiers/{handed.pk}/", **HOST).json(),
            }
        return seen

    shared = answers()
    # The answers really differ by officer: a shared field that kept one officer's request would show.
    assert "request_supplement" in shared["chuyenvien.test"]["handed"]["available_actions"]
    assert "request_supplement" not in shared["motcua.test"]["handed"]["available_actions"]
    assert len(shared["motcua.test"]["list"]) == 2 and len(shared["chuyenvien.test"]["list"]) == 1
    assert shared["chuyenvien.test"]["handed"]["events"][-1]["to_officer"] == "chuyenvien.test"

    def drfs_own():
        monkeypatch.setattr(api.FieldsBuiltOnce, "get_fields", serializers.ModelSerializer.get_fields)
        monkeypatch.setattr(api.FieldsBuiltOnce, "to_representation", serializers.Serializer.to_representation)

    drfs_own()
    assert answers() == shared
    monkeypatch.undo()
    intake = token_client(reception).post("/api/v1/dossiers/", body, "application/json", **HOST)
    assert intake.status_code == 201, intake.json()
    drfs_own()
    read_by_drf = token_client(reception).get(f"/api/v1/dossiers/{intake.json()['id']}/", **HOST).json()
    assert read_by_drf == intake.json() and read_by_drf["applicant_name"] == "Võ Văn Tư"


def test_a_field_that_reads_the_request_is_never_shared():
    from rest_framework import serializers

    from dossiers import api

    class Linked(api.FieldsBuiltOnce, serializers.ModelSerializer):
        link = serializers.HyperlinkedIdentityField(view_name="dossier-detail")
        timeline = api.EventSerializer(many=True, source="events")
        said = serializers.SerializerMethodField()

        class Meta:
            model = Dossier
            fields = ["code", "link", "timeline", "said"]

        def get_said(self, obj):
            return self.context["said"]

    entries, all_shared = Linked.representation_plan()
    plan = {name: (field is not None, method) for name, field, method in entries}
    assert plan == {"code": (True, None), "link": (False, None), "timeline": (True, None), "said": (False, "get_said")}
    assert not all_shared
    assert api.EventSerializer.representation_plan()[1]
