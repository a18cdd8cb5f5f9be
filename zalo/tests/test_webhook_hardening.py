"""Attacks on POST /zalo/webhook/ by someone who is not Zalo: big bodies, forged signatures, replays."""

import json
import time

import pytest
from django.test import Client

from testing.zalo import APP
from zalo.models import InboundEvent
from zalo.signature import signature_header

HOST = {"HTTP_HOST": "danang.localhost"}


def event(text="xin chào", msg_id="m-h6-1", timestamp=None):
    return {
        "app_id": APP["app_id"],
        "event_name": "user_send_text",
        "sender": {"id": "u-4004"},
        "recipient": {"id": APP["oa_id"]},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": timestamp or str(int(time.time() * 1000)),
    }


def signed(payload, key=APP["oa_secret_key"]):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    return raw, signature_header(payload["app_id"], raw, payload["timestamp"], key)


def post(raw, signature, **extra):
    return Client().post(
        "/zalo/webhook/", raw, content_type="application/json", HTTP_X_ZEVENT_SIGNATURE=signature, **HOST, **extra
    )


@pytest.mark.django_db
def test_oversized_webhook_body_is_413_before_parsing(zalo, settings, monkeypatch):
    settings.ZALO_WEBHOOK_MAX_BODY_BYTES = 64 * 1024
    raw, signature = signed(event("A" * 200_000))  # correctly signed, but 200 kB
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda s, *a, **k: parsed.append(s) or real_loads(s, *a, **k))

    response = post(raw, signature)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not [s for s in parsed if s == raw]  # never parsed
    assert not InboundEvent.objects.exists()

    # A body that lies about its length is cut at the limit, not read whole.
    small_raw, small_signature = signed(event("nhỏ", msg_id="m-h6-2"))
    response = post(small_raw, small_signature, CONTENT_LENGTH=str(10**9))
    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db
def test_bad_signature_is_refused_before_json_parsing(zalo, monkeypatch):
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda s, *a, **k: parsed.append(s) or real_loads(s, *a, **k))
    malformed = b'{"app_id": "' + APP["app_id"].encode() + b'", "timestamp": "1700000000000", "x": [[[[['
    forged = signature_header(APP["app_id"], malformed, "1700000000000", "guessed-key")
    for body in (malformed, signed(event())[0], b"[" * 50_000):
        response = post(body, forged)
        assert response.status_code == 401, body[:40]
        assert response.json()["error"]["code"] == "invalid_signature"
    assert not [s for s in parsed if isinstance(s, bytes | bytearray) and bytes(s).startswith((b'{"app_id"', b"[["))]
    assert not InboundEvent.objects.exists()


@pytest.mark.django_db
def test_replayed_old_event_is_refused(zalo, settings):
    settings.ZALO_WEBHOOK_MAX_AGE_SECONDS = 15 * 60
    captured_at = int((time.time() - 16 * 60) * 1000)  # Zalo signed it 16 minutes ago; now it is replayed
    raw, signature = signed(event("LIEN KET 048090001234", msg_id="m-never-seen", timestamp=str(captured_at)))
    response = post(raw, signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "stale_event"
    assert not InboundEvent.objects.exists()

    fresh_raw, fresh_signature = signed(event(msg_id="m-fresh"))
    assert post(fresh_raw, fresh_signature).json() == {"ok": True}  # a fresh event still goes through
    assert InboundEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_signature_over_one_timestamp_cannot_be_reused_with_another(zalo):
    payload = event(msg_id="m-swap")
    raw, _signature = signed(payload)
    # Sign the same bytes with a different, fresh-looking timestamp: the body's own must be the signed one.
    other = str(int(time.time() * 1000) + 1)
    response = post(raw, signature_header(APP["app_id"], raw, other, APP["oa_secret_key"]))
    assert response.status_code == 401
    assert not InboundEvent.objects.exists()
