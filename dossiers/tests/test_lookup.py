"""The citizen's lookup: by QR token or code + verifier, masked, throttled, cached."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dossiers import services
from dossiers.tests.factories import receive

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "danang.localhost"}
PERSONAL = ("048090001234", "0905123456", "0905 123 456", "12 Lê Lợi", "Phạm Thị Hồng Nhung")
MASKED = "Phạm T. H. N."


@pytest.fixture
def dossier(reception):
    return receive(reception, name="Phạm Thị Hồng Nhung")


def page(client, url, **extra):
    response = client.get(url, **HOST, **extra)
    return response, response.content.decode()


def test_the_qr_link_shows_the_status_page_with_masked_data(dossier, reception):
    response, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/")
    assert response.status_code == 200
    assert dossier.code in html and "Được tiếp nhận" in html
    assert MASKED in html
    assert dossier.procedure.name in html
    assert f"{dossier.appointment_date:%d/%m/%Y}" in html
    assert reception.full_name in html and reception.title in html  # who holds it now
    for secret in PERSONAL:
        assert secret not in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_shows_the_holder_and_the_missing_papers(dossier, reception, specialist):
    services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
    services.request_supplement(
        dossier, specialist, items=[services.MissingItem("Giấy chứng sinh", "Bản chụp mờ, không đọc được")]
    )
    _, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/")
    assert "Yêu cầu bổ sung giấy tờ" in html
    assert "Giấy chứng sinh" in html and "Bản chụp mờ, không đọc được" in html
    assert specialist.full_name in html and specialist.title in html
    assert str(specialist.department) in html


def test_internal_notes_never_reach_the_citizen(dossier, reception):
    services.reissue_lookup_token(dossier, reception, note="Công dân mất giấy, số CCCD 048090001234")
    dossier.refresh_from_db()
    _, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/")
    assert "mất giấy" not in html and "048090001234" not in html


def test_a_tampered_or_revoked_token_shows_nothing(dossier, reception, django_capture_on_commit_callbacks):
    old = dossier.lookup_token
    tampered = old[:-1] + ("A" if old[-1] != "A" else "B")
    response, html = page(Client(), f"/tra-cuu/{tampered}/")
    assert response.status_code == 404 and dossier.code not in html
    page(Client(), f"/tra-cuu/{old}/")  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        services.reissue_lookup_token(dossier, reception)
    response, html = page(Client(), f"/tra-cuu/{old}/")
    assert response.status_code == 404 and dossier.code not in html
    dossier.refresh_from_db()
    assert page(Client(), f"/tra-cuu/{dossier.lookup_token}/")[0].status_code == 200


def test_a_provinces_token_does_not_work_on_another_provinces_domain(dossier):
    response = Client().get(f"/tra-cuu/{dossier.lookup_token}/", HTTP_HOST="camau.localhost")
    assert response.status_code == 404
    assert dossier.code not in response.content.decode()


def lookup(client, code, verifier, host=HOST):
    return client.post("/tra-cuu/", {"code": code, "verifier": verifier}, **host)


def test_code_plus_verifier_finds_the_dossier(dossier):
    for verifier in ("3456", "048090001234"):
        response = lookup(Client(), dossier.code, verifier)
        assert response.status_code == 200 and MASKED in response.content.decode()


def test_a_wrong_verifier_and_an_unknown_code_get_identical_answers(dossier):
    wrong = lookup(Client(), dossier.code, "0000")
    unknown = lookup(Client(), "000.00.01.H15-200101-9999", "0000")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert dossier.code not in wrong.content.decode()


def test_api_wrong_verifier_and_unknown_code_get_identical_answers(dossier):
    client = Client()
    wrong = client.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "0000"}, "application/json", **HOST)
    unknown = client.post(
        "/api/v1/lookup/", {"code": "000.00.01.H15-200101-9999", "verifier": "0000"}, "application/json", **HOST
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "not_found"


def test_failed_attempts_on_one_code_are_throttled_and_recover(dossier, settings):
    settings.LOOKUP_RATE_PER_CODE = "3/2"
    for _ in range(3):
        assert lookup(Client(), dossier.code, "0000").status_code == 404
    blocked = lookup(Client(), dossier.code, "3456")  # even the right verifier waits now
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) >= 1
    assert "quá nhiều lần" in blocked.content.decode()
    time.sleep(2.1)
    assert lookup(Client(), dossier.code, "3456").status_code == 200


def test_attempts_from_one_address_are_throttled(dossier, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "4/60"
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(4):
        assert lookup(client, f"000.00.01.H15-200101-000{n}", "1234").status_code == 404
    response = lookup(client, dossier.code, "3456")
    assert response.status_code == 429 and response["Retry-After"]
    other = Client(REMOTE_ADDR="203.0.113.8")
    assert lookup(other, dossier.code, "3456").status_code == 200
    api = other.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "3456"}, "application/json", **HOST)
    assert api.status_code == 200


def test_the_status_is_cached_and_invalidated_when_the_dossier_changes(
    dossier, reception, specialist, django_capture_on_commit_callbacks
):
    url = f"/tra-cuu/{dossier.lookup_token}/"
    client = Client()
    page(client, url)
    with CaptureQueriesContext(connection) as queries:
        response, html = page(client, url)
    assert response.status_code == 200 and '<div class="status s2">Được tiếp nhận</div>' in html
    assert len(queries) == 0  # served from the cache, province routing included
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.hand_over(dossier, reception, to_department=specialist.department)
    assert '<div class="status s2">' in page(client, url)[1]  # not committed yet: still the old status
    for callback in callbacks:
        callback()  # the commit
    _, html = page(client, url)
    assert '<div class="status s4">Đang xử lý</div>' in html


def test_the_api_returns_the_same_masked_payload(dossier):
    client = Client()
    by_token = client.get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST)
    by_code = client.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "3456"}, "application/json", **HOST)
    assert by_token.status_code == by_code.status_code == 200
    assert by_token.json() == by_code.json()
    body = by_token.content.decode("utf-8")
    for secret in PERSONAL:
        assert secret not in body
    assert by_token.json()["applicant"] == MASKED


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"code": 5}', b'{"code": "x"}', b'{"code": "' + b"9" * 500 + b'", "verifier": "1"}'],
)
def test_bad_api_input_is_a_clear_json_error_never_a_500(dossier, body):
    response = Client().post("/api/v1/lookup/", body, "application/json", **HOST)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] in {"malformed_request", "invalid_input", "not_found"} and error["message"]


def test_the_lookup_form_renders_without_javascript(in_danang):
    response, html = page(Client(), "/tra-cuu/")
    assert response.status_code == 200 and "<script" not in html
    assert 'name="code"' in html and 'name="verifier"' in html
