"""The portal's side of Zalo: token refresh under a lock, the webhook, the chat bot."""

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from dossiers.tests.factories import receive
from testing.zalo import APP
from zalo import accounts, inbox
from zalo.models import CitizenQuestion, DossierLink, Follower, InboundEvent, ZaloAccount
from zalo.signature import signature_header

HOST = {"HTTP_HOST": "danang.localhost"}


# --- token refresh ----------------------------------------------------------------------------


@pytest.fixture
def committed_account(django_db_setup, django_db_blocker, fake_zalo, settings):
    from provinces.models import Province

    settings.ZALO_OAUTH_BASE_URL = settings.ZALO_OPENAPI_BASE_URL = settings.ZALO_BUSINESS_BASE_URL = fake_zalo.base_url
    accounts._client.cache_clear()
    fake_zalo.fake.reset(tokens=True)
    with django_db_blocker.unblock():
        danang = Province.objects.get(slug="danang")
        with tenant_context(danang):
            account = ZaloAccount.objects.create(
                **{k: APP[k] for k in ("app_id", "app_secret", "oa_id", "oa_secret_key")},
                refresh_token=APP["refresh_token"],
            )
        connection.set_schema_to_public()
        yield danang, account
        with tenant_context(danang):
            ZaloAccount.objects.filter(pk=account.pk).delete()
        connection.set_schema_to_public()
    accounts._client.cache_clear()


def test_concurrent_refreshes_leave_one_valid_chain(committed_account, fake_zalo, django_db_blocker):
    danang, account = committed_account
    workers, tokens, errors = 6, [], []
    barrier = threading.Barrier(workers)

    def worker():
        try:
            connection.set_tenant(danang)
            barrier.wait(timeout=10)
            tokens.append(accounts.access_token())  # every worker sees "no token yet"
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == [] and len(set(tokens)) == 1  # one refresh; everyone got its token
        with tenant_context(danang):
            stored = ZaloAccount.objects.get(pk=account.pk)
            assert stored.access_token == tokens[0] and stored.refresh_token != APP["refresh_token"]
            # The stored refresh token is the live end of the chain: it refreshes again.
            assert accounts.access_token(stale_token=tokens[0]) != tokens[0]
        connection.set_schema_to_public()


# --- webhook ----------------------------------------------------------------------------------


def signed(payload, key=APP["oa_secret_key"]):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    return raw, signature_header(payload["app_id"], raw, payload["timestamp"], key)


def text_event(text, user="u-3003", msg_id="m-1"):
    return {
        "app_id": APP["app_id"],
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": APP["oa_id"]},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": str(int(time.time() * 1000)),
    }


def post(raw, signature=None):
    headers = {"HTTP_X_ZEVENT_SIGNATURE": signature} if signature is not None else {}
    return Client().post("/zalo/webhook/", raw, content_type="application/json", **HOST, **headers)


@pytest.mark.django_db
def test_a_correctly_signed_event_is_stored_and_answered_at_once(zalo):
    raw, signature = signed(
        {
            "app_id": APP["app_id"],
            "oa_id": APP["oa_id"],
            "event_name": "follow",
            "follower": {"id": "u-1"},
            "source": "oa_profile",
            "timestamp": str(int(time.time() * 1000)),  # fresh: older events are refused
        }
    )
    response = post(raw, signature)
    assert response.status_code == 200 and response.json() == {"ok": True}
    event = InboundEvent.objects.get()
    assert event.processed_at is None  # processed later, by Celery
    assert inbox.process(event.pk) == "follower_added"
    assert Follower.objects.get(user_id="u-1").is_following


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    ["one byte", "wrong key", "missing header", "garbage header"],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(zalo, tamper):
    payload = text_event("xin chào")
    raw, signature = signed(payload, key="wrong-key" if tamper == "wrong key" else APP["oa_secret_key"])
    if tamper == "one byte":
        raw = raw.replace(b"xin", b"xim")
    signature = {"missing header": None, "garbage header": "mac=zz"}.get(tamper, signature)
    response = post(raw, signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db
def test_a_replayed_event_is_stored_and_processed_once(zalo):
    raw, signature = signed(text_event("cho hỏi giờ làm việc", msg_id="m-replay"))
    assert post(raw, signature).status_code == 200
    assert post(raw, signature).json() == {"ok": True, "duplicate": True}
    event = InboundEvent.objects.get()
    inbox.process(event.pk)
    inbox.process(event.pk)
    assert CitizenQuestion.objects.count() == 1


# --- chat bot ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bot_answers_code_and_verifier_and_links_the_dossier(zalo, reception, django_capture_on_commit_callbacks):
    dossier = receive(reception, name="Phạm Thị Hồng Nhung")
    raw, signature = signed(text_event(f"tra cuu {dossier.code} 0905 123 456", user="u-4004", msg_id="m-ok"))
    post(raw, signature)
    zalo.interact("u-4004")
    with django_capture_on_commit_callbacks(execute=True):
        assert inbox.process(InboundEvent.objects.get().pk) == "linked"
    reply = zalo.find_messages(recipient="u-4004")[-1]["text"]
    assert dossier.code in reply and "Được tiếp nhận" in reply and "/tra-cuu/" in reply
    assert "0905123456" not in reply and "048090001234" not in reply
    assert DossierLink.objects.filter(dossier=dossier, follower__user_id="u-4004").exists()


@pytest.mark.django_db
def test_the_bot_refuses_a_wrong_verifier_without_revealing_anything(
    zalo, reception, django_capture_on_commit_callbacks
):
    dossier = receive(reception)
    zalo.interact("u-5005")
    for n, text in enumerate([f"{dossier.code} 0905000000", "000.00.01.H15-200101-9999 0905000000"]):
        raw, signature = signed(text_event(text, user="u-5005", msg_id=f"m-{n}"))
        post(raw, signature)
    with django_capture_on_commit_callbacks(execute=True):
        for event in InboundEvent.objects.order_by("pk"):
            assert inbox.process(event.pk) == "answered"
    wrong, unknown = [m["text"] for m in zalo.find_messages(recipient="u-5005")][-2:]
    assert wrong == unknown and "Không tìm thấy" in wrong and "Được tiếp nhận" not in wrong
    assert not DossierLink.objects.exists()


@pytest.mark.django_db
def test_other_text_goes_to_the_officers_inbox(zalo):
    raw, signature = signed(text_event("Cho hỏi làm giấy khai sinh cần gì?", user="u-6006", msg_id="m-q"))
    post(raw, signature)
    assert inbox.process(InboundEvent.objects.get().pk) == "question"
    question = CitizenQuestion.objects.get()
    assert question.follower.user_id == "u-6006" and question.state == CitizenQuestion.State.OPEN


# --- admin --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_secrets_are_write_only_in_admin(zalo, in_danang):
    from conftest import otp_login
    from offices.tests.factories import OfficerFactory

    admin_client = Client()
    otp_login(admin_client, OfficerFactory(role="province_admin").user)  # password + TOTP code
    account = ZaloAccount.objects.get()
    account.access_token = "live-access-token-value"
    account.save()
    url = f"/admin/zalo/zaloaccount/{account.pk}/change/"
    html = admin_client.get(url, **HOST).content.decode()
    for secret in (APP["app_secret"], APP["oa_secret_key"], "live-access-token-value", APP["refresh_token"]):
        assert secret not in html
    assert "Đã lưu. Để trống nếu không đổi." in html
    form = {"name": "OA Đà Nẵng", "app_id": APP["app_id"], "oa_id": APP["oa_id"], "is_active": "on"}
    response = admin_client.post(url, {**form, "app_secret": "", "oa_secret_key": ""}, **HOST)
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.name, account.app_secret, account.oa_secret_key) == (
        "OA Đà Nẵng",
        APP["app_secret"],
        APP["oa_secret_key"],
    )


@pytest.mark.django_db
def test_officers_cannot_see_the_zalo_account(zalo, reception):
    client = Client()
    client.force_login(reception.user)
    assert client.get("/admin/zalo/zaloaccount/", **HOST).status_code == 403
    assert client.get("/admin/zalo/citizenquestion/", **HOST).status_code == 200  # they answer questions
