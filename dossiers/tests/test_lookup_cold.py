"""A cold status page (issue 12): one database statement per page, and the citizen sees what they saw before.

On results day every citizen scans their own receipt, so nearly every page is cold. The page (by QR
token or by code + verifier, web or API) is read in one statement; apart from the `SET search_path`
django-tenants issues on a request's first cursor, nothing else goes to the database. What it
shows is compared field by field, page and JSON byte for byte, with the lookup as it was built with
the ORM before (`as_before`, kept here verbatim): masked name, holder of an open dossier only, the
latest supplement request's papers, hidden internal events and notes.
"""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from rest_framework.renderers import JSONRenderer

from dossiers import lookup, services, workflow
from dossiers.calendars import current_calendar
from dossiers.models import Dossier, Status
from dossiers.tests.factories import receive
from egov import kv
from egov.middleware import CachedTenantMiddleware, tenant_cache
from testing.wire import RedisConversation

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
PHONE = "0905123456"
SECRETS = ("Nội bộ: hồ sơ của người quen", "Công dân mất giấy, số CCCD 048090001234", "048090001234", "12 Lê Lợi")


# --- the lookup as it was (ORM, three queries), the reference for what the citizen sees -------------


def _date(value):
    return f"{value:%d/%m/%Y}" if value else None


def _datetime(value):
    return f"{timezone.localtime(value):%H:%M %d/%m/%Y}" if value else None


def _holder(dossier):
    officer = dossier.current_officer
    if officer is not None and officer.department_id != dossier.current_department_id:
        officer = None
    return {
        "department": str(dossier.current_department) if dossier.current_department else None,
        "officer": officer.full_name if officer else None,
        "title": officer.title if officer else None,
    }


def as_before(dossier) -> dict:
    dossier = Dossier.objects.select_related("procedure", "current_department", "current_officer__user").get(
        pk=dossier.pk
    )
    payload = {
        "code": dossier.code,
        "procedure": {"code": dossier.procedure.code, "name": dossier.procedure.name},
        "applicant": lookup.mask_name(dossier.applicant_name),
        "status": {
            "code": dossier.status,
            "label": dossier.get_status_display(),
            "explanation": str(lookup.PLAIN_STATUS[dossier.status]),
        },
        "holder": _holder(dossier) if dossier.is_open else None,
        "received_at": _datetime(dossier.accepted_at or dossier.registered_at),
        "appointment_date": _date(dossier.appointment_date),
        "original_appointment_date": (
            _date(dossier.original_appointment_date)
            if dossier.original_appointment_date and dossier.original_appointment_date != dossier.appointment_date
            else None
        ),
        "missing_components": [],
        "fee_amount": dossier.fee_amount if dossier.status == Status.FEES else None,
        "grade": dossier.get_grade_display() if dossier.grade else None,
        "result_ready_at": _datetime(dossier.result_ready_at),
        "returned_at": _datetime(dossier.returned_at),
        "timeline": [],
        "online_files": [],  # nothing sent online in these dossiers (supplements/tests: the list itself)
    }
    if dossier.status == Status.SUPPLEMENT:
        request = dossier.supplement_requests.order_by("-requested_at").prefetch_related("items").first()
        if request:
            payload["missing_components"] = [{"name": i.name, "reason": i.reason} for i in request.items.all()]
    events = dossier.events.select_related("to_department", "to_officer__user").order_by("created_at", "id")
    for event in events:
        if event.action in workflow.HIDDEN_FROM_CITIZEN:
            continue
        payload["timeline"].append(
            {
                "at": _datetime(event.created_at),
                "action": workflow.label_of(event.action),
                "status": event.get_to_status_display(),
                "department": str(event.to_department) if event.to_department else None,
                "note": event.citizen_note,
            }
        )
    return payload


# --- dossiers in the states that matter -------------------------------------------------------------


def _handed_over(officers):
    reception, specialist = officers["reception"], officers["specialist"]
    dossier = receive(reception, phone=PHONE, name="Phạm Thị Hồng Nhung")
    services.hand_over(
        dossier,
        reception,
        to_department=specialist.department,
        to_officer=specialist,
        internal_note=SECRETS[0],
    )
    return dossier


def _supplement(officers):
    dossier = _handed_over(officers)
    specialist = officers["specialist"]
    services.request_supplement(
        dossier,
        specialist,
        items=[services.MissingItem("Giấy chứng sinh", "Bản chụp mờ, không đọc được")],
        internal_note=SECRETS[0],
    )
    services.receive_supplement(dossier, specialist)
    # The latest request is the one shown, not the first.
    services.request_supplement(
        dossier,
        specialist,
        items=[
            services.MissingItem("Tờ khai đăng ký khai sinh", "Thiếu chữ ký người đi khai"),
            services.MissingItem("Giấy đăng ký kết hôn", "Cần bản sao có chứng thực"),
        ],
    )
    return dossier


def _hidden_event(officers):
    dossier = _handed_over(officers)
    services.reissue_lookup_token(dossier, officers["reception"], note=SECRETS[1])
    return dossier


def _returned(officers):
    dossier = _handed_over(officers)
    specialist, leader, reception = officers["specialist"], officers["leader"], officers["reception"]
    dossier.refresh_from_db()
    new_date = dossier.appointment_date + timedelta(days=7)
    while not current_calendar().is_working_day(new_date):
        new_date += timedelta(days=1)
    services.postpone(dossier, specialist, new_date=new_date, reason="Chờ xác minh của xã")
    services.hand_over(dossier, specialist, to_department=leader.department, to_officer=leader)
    services.mark_result_ready(dossier, leader, result="Giấy khai sinh số 12/2026", citizen_note="Mang theo CCCD")
    services.return_result(dossier, reception, internal_note=SECRETS[0])
    return dossier


def _officer_moved(officers):
    """The holder officer left the department: the page names the department only."""
    dossier = _handed_over(officers)
    specialist = officers["specialist"]
    specialist.department = officers["reception"].department
    specialist.save()
    return dossier


STATES = {
    "handed over": _handed_over,
    "supplement": _supplement,
    "hidden event": _hidden_event,
    "returned": _returned,
    "officer moved": _officer_moved,
}


@pytest.fixture(params=list(STATES))
def dossier(request, officers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dossier = STATES[request.param](officers)
    dossier.refresh_from_db()
    return dossier


def test_the_states_are_what_they_claim(dossier):
    """The test can fail: each state really fills the fields it is there for."""
    before = as_before(dossier)
    if dossier.status == Status.SUPPLEMENT:
        assert [m["name"] for m in before["missing_components"]] == [
            "Tờ khai đăng ký khai sinh",
            "Giấy đăng ký kết hôn",
        ]
    if dossier.status == Status.RETURNED:
        assert before["holder"] is None and before["grade"] and before["returned_at"]
        assert before["original_appointment_date"] and any(t["note"] for t in before["timeline"])
    if dossier.status == Status.IN_PROGRESS:
        assert before["holder"]["department"]
    assert (
        dossier.events.filter(internal_note=SECRETS[0]).exists()
        or dossier.events.filter(action="reissue_token").exists()
    )


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_payload_is_what_the_citizen_saw_before(dossier, language):
    with translation.override(language):
        assert lookup.public_status(dossier) == as_before(dossier)
        assert lookup.status_by_token(dossier.lookup_token) == as_before(dossier)
    text = json.dumps(lookup.public_status(dossier), ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in text


def _resolve_the_province(client):
    """The first request of a process looks the province up; the pages below are measured after it.

    Looked up afresh: a copy an earlier test kept could run out of its TENANT_CACHE_SECONDS between
    this request and the measured one (the measured page would then look the province up again). A
    copy is kept only once the cache listens for evictions: waited for, not assumed."""
    CachedTenantMiddleware.clear()
    cache = tenant_cache()
    cache.get("warm-up")  # starts this cache's eviction listener
    assert cache._subscribed.wait(30)
    assert client.get("/tra-cuu/", **HOST).status_code == 200


def _forget_cached_copies():
    kv.client().flushdb()
    lookup._local._data.clear()


def _statements(queries):
    """What went to the database, apart from django-tenants' `SET search_path` for the province."""
    # A prepared statement is logged with its values bound (egov/compiled.py), as Django logs the others.
    return [q["sql"] for q in queries if not (q["sql"] or "").startswith("SET search_path")]


def _one_statement(queries):
    statements = _statements(queries)
    assert len(statements) == 1, statements
    assert len(queries) <= 2, [q["sql"] for q in queries]


def test_the_cold_qr_page_is_one_statement_and_the_same_page(dossier):
    client = Client()
    _resolve_the_province(client)
    _forget_cached_copies()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/tra-cuu/{dossier.lookup_token}/", **HOST)
    assert response.status_code == 200
    _one_statement(queries)
    expected = render_to_string(
        "lookup/status.html", {"s": as_before(dossier), "token": dossier.lookup_token}, request=response.wsgi_request
    )
    assert response.content.decode() == expected
    for secret in SECRETS:
        assert secret not in expected
    with CaptureQueriesContext(connection) as queries:  # hot: the same bytes, no database
        assert client.get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).content == response.content
    assert len(queries) == 0


def test_the_cold_api_lookup_is_one_statement_and_the_same_json(dossier):
    client = Client()
    _resolve_the_province(client)
    _forget_cached_copies()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST)
    assert response.status_code == 200
    _one_statement(queries)
    assert response.content == JSONRenderer().render(as_before(dossier))


def test_the_cold_api_lookup_in_english_is_the_same_json(dossier):
    client = Client()
    _resolve_the_province(client)
    _forget_cached_copies()
    response = client.get(f"/api/v1/lookup/{dossier.lookup_token}/", HTTP_ACCEPT_LANGUAGE="en", **HOST)
    with translation.override("en"):
        expected = as_before(dossier)
    assert response.json() == json.loads(JSONRenderer().render(expected))
    with translation.override("vi"):
        assert response.json()["status"]["label"] != as_before(dossier)["status"]["label"]


def test_code_and_verifier_is_one_statement_and_the_same_answer(dossier):
    client = Client()
    _resolve_the_province(client)
    _forget_cached_copies()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/tra-cuu/", {"code": dossier.code, "verifier": PHONE}, **HOST)
    assert response.status_code == 200
    _one_statement(queries)
    assert response.content.decode() == render_to_string(
        "lookup/status.html", {"s": as_before(dossier)}, request=response.wsgi_request
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/lookup/", {"code": dossier.code, "verifier": PHONE}, content_type="application/json", **HOST
        )
    assert response.status_code == 200
    _one_statement(queries)
    assert response.json() == json.loads(JSONRenderer().render(as_before(dossier)))


def test_a_wrong_verifier_is_one_statement_and_shows_nothing(dossier):
    client = Client()
    _resolve_the_province(client)
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/tra-cuu/", {"code": dossier.code, "verifier": "0911111111"}, **HOST)
    assert response.status_code == 404 and dossier.code not in response.content.decode()
    _one_statement(queries)


def test_the_zalo_chat_still_gets_the_dossier_itself(dossier):
    found = lookup.dossier_by_code(dossier.code, PHONE, "zalo:1")
    assert isinstance(found, Dossier) and found.pk == dossier.pk


@pytest.fixture
def redis_conversation(monkeypatch):
    """What this test's thread says to Redis and how often it waits, with this process's memory in use
    (its eviction listener subscribed) and what this process learns once about the server known already."""
    kv.client().script_load(lookup._SET_IF_GENERATION)
    kv.send_unanswered("PING")  # learns whether the server honours CLIENT REPLY SKIP
    lookup._local.get("-")  # starts the listener
    assert lookup._local._subscribed.wait(timeout=20)
    return RedisConversation(monkeypatch)


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_cold_page_waits_for_redis_once_and_a_hot_one_at_most_once(dossier, door, redis_conversation):
    client = Client()
    _resolve_the_province(client)
    _forget_cached_copies()
    url = f"/tra-cuu/{dossier.lookup_token}/" if door == "page" else f"/api/v1/lookup/{dossier.lookup_token}/"
    redis_conversation.clear()
    first = client.get(url, **HOST)
    assert first.status_code == 200
    # The reads at once (rendering, the address's count, generation, payload), then the copies kept at
    # once by a script whose answer is not awaited: Redis is told not to send one.
    # The API as the page: its GET is answered before DRF's machinery by the same `lookup.serve`.
    assert redis_conversation.sent == ["MGET", "CLIENT", "EVAL"]
    assert redis_conversation.waits == 1
    redis_conversation.clear()  # this process: not in its memory yet (whether Redis kept it was not heard)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **HOST).content == first.content
    assert (redis_conversation.sent, redis_conversation.waits) == (["MGET"], 1)  # kept: found there
    assert [q for q in queries if "search_path" not in q["sql"]] == []
    redis_conversation.clear()  # this process again: from its memory
    assert client.get(url, **HOST).content == first.content
    assert (redis_conversation.sent, redis_conversation.waits) == ([], 0)
    assert not kv.client().connection.can_read()  # no answer left over on the thread's connection


def test_the_prepared_statement_reads_the_current_province_only(dossier, camau):
    """The statement is prepared once per connection; PostgreSQL parses it again under another province's
    search_path, so a prepared plan never reads the previous province's table."""
    token = dossier.lookup_token
    for _ in range(3):
        assert lookup._load(lookup_token=token).code == dossier.code
    with tenant_context(camau):
        assert lookup._load(lookup_token=token) is None
        assert lookup._load(code=dossier.code) is None
    assert lookup._load(lookup_token=token).code == dossier.code
