""" "Kết nối Zalo OA": the OAuth v4 consent flow with PKCE, attacked (forged, replayed, expired, foreign
state; an injected code; a refusal at Zalo), against the fake Zalo's real consent page and token endpoint."""

import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from fakezalo import P_TOKEN
from testing.zalo import APP, APP_ID, APP_SECRET, OA_ID
from zalo import accounts, oauth
from zalo.errors import OAuthRejected
from zalo.models import ZaloAccount

HOST = {"HTTP_HOST": "danang.localhost"}
CALLBACK = "/admin/zalo/zaloaccount/ket-noi/callback/"
REFUSED = "Không kết nối"


def province_admin():
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory

    client = Client()
    otp_login(client, OfficerFactory(role="province_admin").user)  # password + TOTP code: a verified session
    return client


def oa_page(account):
    return f"/admin/zalo/zaloaccount/{account.pk}/change/"


def start(client, account):
    """Press "Kết nối Zalo OA": the portal answers with a redirect to Zalo's permission page."""
    response = client.post(f"/admin/zalo/zaloaccount/{account.pk}/ket-noi/", **HOST)
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def consent(permission_url, decision="allow", oa_id=OA_ID):
    """The OA's admin on Zalo's consent page: returns where Zalo sends the browser back (path?query)."""
    with httpx.Client(timeout=5.0, trust_env=False) as browser:
        page = browser.get(permission_url)
        assert page.status_code == 200 and "Từ chối" in page.text
        form = {k: v[-1] for k, v in parse_qs(urlsplit(permission_url).query).items()}
        back = browser.post(permission_url.split("?")[0], data={**form, "oa_id": oa_id, "decision": decision})
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert (location.netloc, location.path) == ("danang.localhost", CALLBACK)  # the province's own domain
    return f"{location.path}?{location.query}"


def with_params(callback, **changes):
    query = {k: v[-1] for k, v in parse_qs(urlsplit(callback).query).items()} | changes
    return f"{CALLBACK}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def tokens(account):
    account.refresh_from_db()
    return (account.access_token, account.refresh_token, account.access_token_expires_at)


def follow(client, url):
    response = client.get(url, follow=True, **HOST)
    assert response.status_code == 200
    return response.content.decode()


def list_followers(token):
    accounts.client().list_followers(token)
    return token


@pytest.mark.django_db
def test_callback_refuses_forged_or_replayed_state(zalo, in_danang):
    admin = province_admin()
    account = ZaloAccount.objects.get()
    before = tokens(account)
    callback = consent(start(admin, account))

    # Forged, missing: refused with a message on the OA's page, nothing stored, the real flow survives.
    for forged in (with_params(callback, state=oauth.secrets.token_urlsafe(32)), with_params(callback, state=None)):
        html = follow(admin, forged)
        assert "mã state Zalo gửi về không khớp" in html and 'id="zalo-connection"' in html
        assert tokens(account) == before

    html = follow(admin, callback)
    assert "Đã kết nối Zalo OA" in html and 'id="zalo-connection-state">Đã kết nối' in html
    connected = tokens(account)
    assert connected[0] and connected[1] != before[1]
    # Replayed (the same redirect again, e.g. from the browser's history): the state was used up.
    html = follow(admin, callback)
    assert "không có yêu cầu kết nối Zalo OA nào đang chờ" in html
    assert tokens(account) == connected
    assert LogEntry.objects.filter(object_id=str(account.pk), change_message="Kết nối Zalo OA").count() == 1

    # Expired: Zalo's answer comes back after the state's lifetime.
    callback = consent(start(admin, account))
    session = admin.session
    session[oauth.SESSION_KEY]["started"] -= oauth.STATE_LIFETIME + 1
    session.save()
    html = follow(admin, callback)
    assert "yêu cầu kết nối đã quá 10 phút" in html
    assert tokens(account) == connected
    html = follow(admin, callback)  # and it is gone: no second try with the same state
    assert "không có yêu cầu kết nối Zalo OA nào đang chờ" in html


@pytest.mark.django_db
def test_callback_refuses_a_state_from_another_session(zalo, in_danang):
    admin_a, admin_b = province_admin(), province_admin()
    account = ZaloAccount.objects.get()
    before = tokens(account)
    callback_a = consent(start(admin_a, account))

    # B has no flow of its own: A's redirect (state and code) is refused in B's session.
    assert "không có yêu cầu kết nối Zalo OA nào đang chờ" in follow(admin_b, callback_a)
    # B has a flow of its own: A's state is still not B's.
    consent(start(admin_b, account))
    assert "mã state Zalo gửi về không khớp" in follow(admin_b, callback_a)
    assert tokens(account) == before
    assert not LogEntry.objects.filter(object_id=str(account.pk)).exists()

    # A's own flow is intact: the refusal in B's session neither used nor cancelled it.
    assert "Đã kết nối Zalo OA" in follow(admin_a, callback_a)
    assert tokens(account)[0]


@pytest.mark.django_db
def test_code_exchange_with_wrong_verifier_stores_nothing(zalo, in_danang):
    """Code injection: an attacker's code (issued for the attacker's PKCE challenge) is slipped into the
    admin's callback with the admin's own valid state. The portal exchanges it with the admin's verifier,
    which does not match that challenge: Zalo (the fake) refuses, nothing is stored."""
    admin, attacker = province_admin(), province_admin()
    account = ZaloAccount.objects.get()
    zalo.expire_tokens(refresh=True)
    with pytest.raises(OAuthRejected):
        accounts.call_with_token(list_followers)  # the chain is broken: the OA needs re-authorising
    before = tokens(account)
    error_before = account.refresh_error
    assert error_before

    attackers_code = parse_qs(urlsplit(consent(start(attacker, account))).query)["code"][0]
    callback = consent(start(admin, account))
    html = follow(admin, with_params(callback, code=attackers_code))
    assert "Zalo không chấp nhận mã cấp quyền" in html and "code_verifier" in html
    account.refresh_from_db()
    assert tokens(account) == before and account.refresh_error == error_before  # still broken, nothing written
    assert LogEntry.objects.get(object_id=str(account.pk)).change_message.startswith("Kết nối Zalo OA không thành công")
    assert "Kết nối lại" in follow(admin, oa_page(account))  # the admin can start again


@pytest.mark.django_db
def test_callback_refuses_an_error_returned_by_zalo_and_an_other_oa(zalo, in_danang):
    admin = province_admin()
    account = ZaloAccount.objects.get()
    before = tokens(account)
    html = follow(admin, consent(start(admin, account), decision="deny"))  # the OA's admin pressed "Từ chối"
    assert "Người dùng từ chối cấp quyền" in html and REFUSED in html
    # A grant for another OA than the province's is never stored, and its code is not even exchanged.
    other = "2900000000000000999"
    zalo.register(APP_ID, APP_SECRET, other, "other-oa-key", name="OA khác của cùng ứng dụng")
    try:
        callback = consent(start(admin, account), oa_id=other)
        exchanges = zalo.request_counts["/v4/oa/access_token"]
        html = follow(admin, callback)
    finally:
        with zalo._lock:  # the fake is shared by the session's tests
            zalo.oas.pop(other)
    assert f"quyền được cấp cho OA {other}, không phải OA {OA_ID}" in html
    assert zalo.request_counts["/v4/oa/access_token"] == exchanges
    assert tokens(account) == before


@pytest.mark.django_db
def test_only_verified_province_admins_may_start_the_flow(zalo, in_danang):
    from offices.tests.factories import OfficerFactory

    account = ZaloAccount.objects.get()
    url = f"/admin/zalo/zaloaccount/{account.pk}/ket-noi/"
    officer = Client()
    officer.force_login(OfficerFactory(role="reception").user)
    assert officer.post(url, **HOST).status_code == 403
    assert officer.get(CALLBACK + "?state=x&code=y", **HOST).status_code == 403
    unverified = Client()
    unverified.force_login(OfficerFactory(role="province_admin").user)  # no second factor in this session
    response = unverified.post(url, **HOST)
    assert response.status_code == 302 and "/ket-noi" not in response["Location"]
    assert "oauth" not in response["Location"] and oauth.SESSION_KEY not in unverified.session
    assert province_admin().get(url, **HOST).status_code == 405  # starting takes a POST (CSRF-protected form)


@pytest.mark.django_db
def test_reconnecting_a_broken_oa_clears_the_error_and_calls_work_again(zalo, in_danang):
    admin = province_admin()
    account = ZaloAccount.objects.get()
    zalo.expire_tokens(refresh=True)
    with pytest.raises(OAuthRejected):
        accounts.call_with_token(list_followers)
    html = follow(admin, "/admin/")
    assert "Kết nối Zalo OA bị lỗi" in html  # the banner, linking to the OA's page
    html = follow(admin, oa_page(account))
    assert 'id="zalo-connect">Kết nối lại</button>' in html and 'id="zalo-connection-error"' in html

    html = follow(admin, consent(start(admin, account)))
    assert "Đã kết nối Zalo OA" in html and "Kết nối Zalo OA bị lỗi" not in html
    account.refresh_from_db()
    assert account.refresh_error == "" and account.refresh_failed_at is None
    assert account.access_token_expires_at is not None
    assert accounts.call_with_token(list_followers) == account.access_token  # the new token works at Zalo
    assert LogEntry.objects.get(object_id=str(account.pk)).change_message == "Kết nối lại Zalo OA (ủy quyền mới)"
    assert "Kết nối Zalo OA bị lỗi" not in follow(admin, "/admin/")


@pytest.mark.django_db
def test_tokens_are_never_shown_in_the_oa_page(zalo, in_danang):
    admin = province_admin()
    account = ZaloAccount.objects.get()
    callback = consent(start(admin, account))
    pages = [follow(admin, callback)]
    account.refresh_from_db()
    secrets = (account.access_token, account.refresh_token, account.app_secret, account.oa_secret_key)
    assert all(secrets)
    for url in (oa_page(account), "/admin/zalo/zaloaccount/", f"/admin/zalo/zaloaccount/{account.pk}/history/"):
        pages.append(follow(admin, url))
    for html in pages:
        for secret in secrets:
            assert secret not in html
    oa_html = pages[1]
    assert 'id="zalo-connection-state">Đã kết nối' in oa_html and 'id="zalo-connection-expires"' in oa_html
    assert 'name="access_token"' not in oa_html and 'name="refresh_token"' not in oa_html  # no token field at all
    # Posting a token into the form changes nothing: tokens come only from Zalo.
    form = {"name": "OA", "app_id": account.app_id, "oa_id": account.oa_id, "is_active": "on"}
    admin.post(oa_page(account), {**form, "access_token": "typed-in", "refresh_token": "typed-in"}, **HOST)
    assert tokens(account)[0] != "typed-in" and account.refresh_token != "typed-in"


# -- the new pair is stored only when no call is using the old token -------------------------------


def in_thread(fn, *args):
    """fn(*args) on a thread with its own database connection (autocommit: other threads see its writes)."""
    result, failure = [], []

    def run():
        from django.db import connection as own

        try:
            result.append(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)
        finally:
            own.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result, failure


def joined(started, timeout=30.0):
    thread, result, failure = started
    thread.join(timeout)
    assert not thread.is_alive()
    if failure:
        raise failure[0]
    return result[0]


@pytest.mark.django_db
def test_connecting_waits_for_a_call_in_flight_and_the_next_call_uses_the_new_token(fake_zalo, settings, danang):
    """A call is on the wire with the old token when the admin's code comes back: the exchange and the
    write wait until Zalo has answered that call (the token lock); the next call reads the new pair."""
    from django_tenants.utils import tenant_context

    from zalo.signature import code_challenge, make_code_verifier

    settings.ZALO_OAUTH_BASE_URL = settings.ZALO_OPENAPI_BASE_URL = settings.ZALO_BUSINESS_BASE_URL = fake_zalo.base_url
    fake = fake_zalo.fake
    fake.reset(tokens=True)
    accounts._client.cache_clear()
    old = fake.issue_tokens(OA_ID)

    def create():  # committed, on its own connection: the other threads must see it
        with tenant_context(danang):
            ZaloAccount.objects.all().delete()
            return ZaloAccount.objects.create(
                **{k: APP[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                access_token=old["access_token"],
                refresh_token=old["refresh_token"],
                access_token_expires_at=timezone.now() + timedelta(hours=24),
            ).pk

    pk = joined(in_thread(create))
    on_the_wire, answer = threading.Event(), threading.Event()
    exchanged = []

    def call_in_flight():
        def slow_call(token):
            on_the_wire.set()
            assert answer.wait(30)
            return token

        with tenant_context(danang):
            return accounts.call_with_token(slow_call)

    def connect_with_a_fresh_code():
        verifier = make_code_verifier()
        code = fake.issue_code(OA_ID, code_challenge(verifier))
        with tenant_context(danang):
            from django.db import connection as own

            own.ensure_connection()
            exchanged.append(own.connection.info.backend_pid)
            oauth.connect(oauth.Pending(pk, verifier), code=code, oa_id=OA_ID)

    def waits_on_a_lock(pid):
        from django.db import connection as own

        with own.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        return row is not None and row[0] == "Lock"

    try:
        caller = in_thread(call_in_flight)
        assert on_the_wire.wait(30)
        requests_before = fake.request_counts[P_TOKEN]
        connecting = in_thread(connect_with_a_fresh_code)
        deadline = time.monotonic() + 30
        while not (exchanged and joined(in_thread(waits_on_a_lock, exchanged[0]))):
            assert time.monotonic() < deadline, "the connection never waited for the call in flight"
        assert fake.request_counts[P_TOKEN] == requests_before  # no exchange while the old token is in use
        answer.set()
        assert joined(caller) == old["access_token"]
        joined(connecting)

        def next_call():
            with tenant_context(danang):
                return accounts.call_with_token(lambda token: (accounts.client().list_followers(token), token)[1])

        new_token = joined(in_thread(next_call))
        assert new_token != old["access_token"] and fake.request_counts[P_TOKEN] == requests_before + 1
    finally:
        answer.set()

        def remove():
            with tenant_context(danang):
                ZaloAccount.objects.filter(pk=pk).delete()

        joined(in_thread(remove))
        accounts._client.cache_clear()
