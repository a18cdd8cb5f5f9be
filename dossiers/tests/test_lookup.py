"""The citizen's lookup: by QR token or code + verifier, masked, throttled, cached."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dossiers import services
from dossiers.tests.factories import ProcedureFactory, receive

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
    for verifier in ("0905123456", "0905 123 456", "+84 905.123.456", "84905123456", "048090001234", "048-090-001-234"):
        response = lookup(Client(), dossier.code, verifier)
        assert response.status_code == 200 and MASKED in response.content.decode(), verifier


def test_last_four_digits_no_longer_verify(dossier):
    """10,000 values fall to a script: the last 4 digits (or any short part) of the phone prove nothing."""
    for verifier in ("3456", "05123456", "905123456", "01234"):
        response = lookup(Client(), dossier.code, verifier)
        assert response.status_code == 404 and MASKED not in response.content.decode(), verifier
    api = Client().post("/api/v1/lookup/", {"code": dossier.code, "verifier": "3456"}, "application/json", **HOST)
    assert api.status_code == 404


def test_a_wrong_verifier_and_an_unknown_code_get_identical_answers(dossier):
    wrong = lookup(Client(), dossier.code, "0905000000")
    unknown = lookup(Client(), "000.00.01.H15-200101-9999", "0905000000")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert dossier.code not in wrong.content.decode()


def test_api_wrong_verifier_and_unknown_code_get_identical_answers(dossier):
    client = Client()
    wrong = client.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "0905000000"}, "application/json", **HOST)
    unknown = client.post(
        "/api/v1/lookup/", {"code": "000.00.01.H15-200101-9999", "verifier": "0905000000"}, "application/json", **HOST
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "not_found"


def test_attempts_from_one_address_are_throttled(dossier, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "4/60"
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(4):
        assert lookup(client, f"000.00.01.H15-200101-000{n}", "0905000000").status_code == 404
    response = lookup(client, dossier.code, "0905123456")
    assert response.status_code == 429 and response["Retry-After"]
    other = Client(REMOTE_ADDR="203.0.113.8")
    assert lookup(other, dossier.code, "0905123456").status_code == 200
    api = other.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "0905123456"}, "application/json", **HOST)
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
    by_code = client.post(
        "/api/v1/lookup/", {"code": dossier.code, "verifier": "048090001234"}, "application/json", **HOST
    )
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


# --- guessing verifiers: one counter per code, locked for growing windows -----------------------

WRONG = [f"09051{n:05d}" for n in range(40)]  # full, well-formed phone numbers, none of them the applicant's
UNKNOWN_CODE = "000.00.01.H15-200101-9999"


def api_lookup(client, code, verifier):
    return client.post("/api/v1/lookup/", {"code": code, "verifier": verifier}, "application/json", **HOST)


def expire_lock(code):
    """Time passes: the code's current lockout ends (its lockout level stays, as it would)."""
    from egov import kv, ratelimit

    key = ratelimit._lock_keys("lookup-code", code)[0]
    assert kv.client().exists(key), "the code should be locked now"
    kv.client().delete(key)


def test_guessing_verifiers_on_the_page_locks_the_code(dossier):
    client = Client()
    for verifier in WRONG[:5]:
        assert lookup(client, dossier.code, verifier).status_code == 404
    blocked = lookup(client, dossier.code, "0905123456")  # the 6th attempt, even with the right verifier
    assert blocked.status_code == 429
    assert 890 <= int(blocked["Retry-After"]) <= 900
    body = blocked.content.decode()
    assert "tạm khóa" in body and "quét mã QR" in body and MASKED not in body
    assert api_lookup(Client(), dossier.code, "048090001234").status_code == 429  # and from anywhere else
    # The real citizen is never locked out: the receipt's QR link still works.
    response, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/")
    assert response.status_code == 200 and MASKED in html
    # No oracle: an unknown code locks after the same number of guesses and gets the same answer.
    for verifier in WRONG[:5]:
        assert lookup(client, UNKNOWN_CODE, verifier).status_code == 404
    unknown = lookup(client, UNKNOWN_CODE, "0905123456")
    assert unknown.status_code == 429 and unknown.content == blocked.content
    assert abs(int(unknown["Retry-After"]) - int(blocked["Retry-After"])) <= 10


def test_guessing_verifiers_by_chat_is_locked_out(dossier):
    """The page, the API and the Zalo chat count against one allowance per code."""
    from zalo import bot

    for verifier in WRONG[:2]:
        assert lookup(Client(), dossier.code, verifier).status_code == 404
    for verifier in WRONG[2:4]:
        assert api_lookup(Client(), dossier.code, verifier).status_code == 404
    assert "Không tìm thấy" in bot.answer("u-guess", f"{dossier.code} {WRONG[4]}").text
    assert lookup(Client(), dossier.code, "0905123456").status_code == 429
    assert api_lookup(Client(), dossier.code, "0905123456").status_code == 429
    reply = bot.answer("u-owner", f"{dossier.code} 0905123456")
    assert reply.dossier is None and "tạm khóa" in reply.text


def test_lockout_windows_grow(dossier, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "1000/300"  # the per-code lock alone is under test
    seen = []
    for _round in range(5):
        for verifier in WRONG[:5]:
            assert lookup(Client(), dossier.code, verifier).status_code == 404
        blocked = lookup(Client(), dossier.code, "0905123456")
        assert blocked.status_code == 429
        seen.append(int(blocked["Retry-After"]))
        expire_lock(dossier.code)
    expected = [900, 3600, 4 * 3600, 24 * 3600, 24 * 3600]
    assert all(want - 10 <= got <= want for got, want in zip(seen, expected, strict=True)), seen
    assert lookup(Client(), dossier.code, "0905123456").status_code == 200  # after the last window: open again


def test_a_right_verifier_does_not_spend_the_allowance(dossier):
    for _ in range(8):
        assert lookup(Client(), dossier.code, "0905123456").status_code == 200
    for verifier in WRONG[:4]:
        assert lookup(Client(), dossier.code, verifier).status_code == 404
    assert lookup(Client(), dossier.code, "0905123456").status_code == 200


def test_concurrent_guesses_cannot_exceed_the_allowance(dossier, monkeypatch):
    """Many wrong verifiers fired at once: the database is asked about the code at most 5 times.

    Every guess that reaches the database waits there until all the others have either reached it
    too or been refused, so a check-then-count race would let all of them through.
    """
    from dossiers import lookup as lookup_module

    threads_n = 16
    real_load = lookup_module._load
    state = threading.Condition()
    asked, refused, errors = [], [], []

    def counting_load(**filters):
        with state:
            asked.append(filters)
            state.notify_all()
            state.wait_for(lambda: len(asked) + len(refused) >= threads_n, timeout=20)
        return real_load(**filters)

    monkeypatch.setattr(lookup_module, "_load", counting_load)
    from django_tenants.utils import get_tenant_model

    tenant = get_tenant_model().objects.get(schema_name=connection.schema_name)
    barrier = threading.Barrier(threads_n)

    def guess(n):
        connection.set_tenant(tenant)
        barrier.wait(timeout=20)
        try:
            lookup_module.status_by_code(dossier.code, WRONG[n], f"198.51.100.{n}")
        except lookup_module.Throttled:
            with state:
                refused.append(n)
                state.notify_all()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            with state:
                refused.append(n)
                state.notify_all()
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(asked) <= 5 and len(asked) + len(refused) == threads_n
    assert lookup(Client(), dossier.code, "0905123456").status_code == 429  # and the code is locked now


# --- the client address behind proxies ----------------------------------------------------------


def test_forged_x_forwarded_for_does_not_escape_the_address_limit(dossier, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "4/60"
    settings.TRUSTED_PROXY_COUNT = 1  # one reverse proxy, which appends the address it saw
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"  # the old setting must not bring back the left-most entry
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for n in range(4):
        forged = f"198.51.100.{n}, 203.0.113.7"  # the client writes the left part; the proxy appended its own
        response = proxy.post(
            "/tra-cuu/",
            {"code": f"000.00.01.H15-200101-000{n}", "verifier": WRONG[n]},
            HTTP_X_FORWARDED_FOR=forged,
            **HOST,
        )
        assert response.status_code == 404
    response = proxy.post(
        "/tra-cuu/",
        {"code": dossier.code, "verifier": "0905123456"},
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
        **HOST,
    )
    assert response.status_code == 429
    other = proxy.post(
        "/tra-cuu/", {"code": dossier.code, "verifier": "0905123456"}, HTTP_X_FORWARDED_FOR="203.0.113.8", **HOST
    )
    assert other.status_code == 200  # another citizen behind the same proxy is not blocked


def test_ipv6_addresses_in_one_64_share_a_limit(dossier, settings):
    settings.LOOKUP_RATE_PER_ADDRESS = "4/60"
    for n in range(4):
        client = Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
        assert lookup(client, f"000.00.01.H15-200101-000{n}", WRONG[n]).status_code == 404
    same_64 = Client(REMOTE_ADDR="2001:db8:1:2:ffff:ffff:ffff:1")
    assert lookup(same_64, dossier.code, "0905123456").status_code == 429
    next_64 = Client(REMOTE_ADDR="2001:db8:1:3::1")
    assert lookup(next_64, dossier.code, "0905123456").status_code == 200


def test_markup_typed_by_officers_is_shown_as_text_never_run(reception, specialist):
    """What officers type reaches the citizen's page (a procedure's name, a missing paper and its reason,
    a note to the citizen): escaped, so a pasted <script> or a quote breaking an attribute runs nothing."""
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>"\''
    dossier = receive(reception, ProcedureFactory(name=f"Thủ tục {attack}"))
    services.hand_over(dossier, reception, to_department=specialist.department, citizen_note=f"Ghi chú {attack}")
    services.request_supplement(dossier, specialist, items=[services.MissingItem(f"Giấy {attack}", f"Vì {attack}")])

    for language in ("vi", "en"):
        _, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/", HTTP_ACCEPT_LANGUAGE=language)
        assert "<script" not in html and "<img src=x" not in html
        escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#34;&#39;"
        # As text: the procedure, the note, the paper and its reason (in the list and in the timeline).
        assert html.count(escaped) == 6


def test_a_scan_before_the_intake_committed_keeps_nothing_so_the_page_shows_after(reception):
    """A dossier's first event clears no cached copy (none can exist): a scan of its token before the
    intake's transaction committed (another connection, which does not see the row yet) finds nothing
    and must keep nothing, page or JSON, so both show the dossier as soon as the intake commits."""
    dossier = receive(reception)  # this test's transaction: not committed for other connections
    early = {}

    def scan_from_elsewhere():
        try:
            early["page"] = Client().get(f"/tra-cuu/{dossier.lookup_token}/", **HOST).status_code
            early["api"] = Client().get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST).status_code
        finally:
            connection.close()

    scanner = threading.Thread(target=scan_from_elsewhere)
    scanner.start()
    scanner.join(timeout=60)
    assert early == {"page": 404, "api": 404}

    response, html = page(Client(), f"/tra-cuu/{dossier.lookup_token}/")
    assert response.status_code == 200 and dossier.code in html
    assert Client().get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST).json()["code"] == dossier.code


def test_no_shared_cache_keeps_an_api_lookup_found_or_not(dossier):
    """The API's answers are one citizen's, found by a secret link or by the code and the verifier: like
    the page, every answer (found, not found, refused input) says no shared cache may keep it."""
    client = Client()
    answers = [
        client.get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST),
        client.get(f"/api/v1/lookup/{dossier.lookup_token}/", **HOST),  # the second from the cache
        client.get("/api/v1/lookup/" + "x" * 32 + "/", **HOST),
        client.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "0905123456"}, "application/json", **HOST),
        client.post("/api/v1/lookup/", {"code": dossier.code, "verifier": "0"}, "application/json", **HOST),
        client.post("/api/v1/lookup/", {"code": dossier.code}, "application/json", **HOST),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 200, 404, 400]
    for answer in answers:
        assert answer["Cache-Control"] == "private, no-store"
        assert answer["Referrer-Policy"] == "no-referrer" and answer["X-Robots-Tag"] == "noindex"
    assert answers[0].content == answers[1].content
