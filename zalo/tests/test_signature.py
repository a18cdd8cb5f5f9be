"""Webhook signature: SHA-256(app_id + raw body + timestamp + OA secret key), header ``mac=<hex>``."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from zalo.signature import (
    appsecret_proof,
    code_challenge,
    event_signature,
    signature_header,
    verify_event_signature,
)

KEY = "oa-secret-key-Đà-Nẵng"
EVENT = {
    "app_id": "4318000000000000001",
    "event_name": "user_send_text",
    "sender": {"id": "8462000000000000001"},
    "recipient": {"id": "2900000000000000001"},
    "message": {"text": "Cho tôi hỏi hồ sơ", "msg_id": "abc"},
    "timestamp": "1700000000000",
}
RAW = json.dumps(EVENT, ensure_ascii=False).encode("utf-8")


def test_known_vector_is_plain_sha256_of_the_concatenation():
    expected = hashlib.sha256(b"4318000000000000001" + RAW + b"1700000000000" + KEY.encode()).hexdigest()
    assert event_signature("4318000000000000001", RAW, "1700000000000", KEY) == expected
    assert signature_header("4318000000000000001", RAW, "1700000000000", KEY) == "mac=" + expected
    assert expected == expected.lower() and len(expected) == 64


def test_correct_signature_verifies():
    header = signature_header(EVENT["app_id"], RAW, EVENT["timestamp"], KEY)
    assert verify_event_signature(RAW, header, KEY)
    assert verify_event_signature(RAW, " " + header.upper().replace("MAC=", "mac=") + " ", KEY)


def test_the_raw_bytes_are_signed_not_a_reserialisation():
    spaced = json.dumps(EVENT, ensure_ascii=True, indent=2).encode()
    header = signature_header(EVENT["app_id"], spaced, EVENT["timestamp"], KEY)
    assert verify_event_signature(spaced, header, KEY)
    assert not verify_event_signature(RAW, header, KEY)


@pytest.mark.parametrize("position", [0, 10, len(RAW) // 2, len(RAW) - 1])
def test_one_changed_byte_fails(position: int):
    header = signature_header(EVENT["app_id"], RAW, EVENT["timestamp"], KEY)
    tampered = bytearray(RAW)
    tampered[position] ^= 0x01
    assert not verify_event_signature(bytes(tampered), header, KEY)


def test_wrong_key_fails():
    header = signature_header(EVENT["app_id"], RAW, EVENT["timestamp"], KEY)
    assert not verify_event_signature(RAW, header, KEY + "x")
    assert not verify_event_signature(RAW, header, "")


def test_hmac_instead_of_plain_sha256_fails():
    wrong = hmac.new(KEY.encode(), EVENT["app_id"].encode() + RAW + EVENT["timestamp"].encode(), "sha256")
    assert not verify_event_signature(RAW, "mac=" + wrong.hexdigest(), KEY)


@pytest.mark.parametrize(
    "header",
    [None, "", "mac=", "mac", "sha256=" + "0" * 64, "mac=" + "z" * 64, "mac=" + "0" * 63, "mac=" + "0" * 64, "garbage"],
)
def test_missing_or_garbage_header_fails(header: str | None):
    assert verify_event_signature(RAW, header, KEY) is False


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"app_id":"1"}', b'{"timestamp":"1"}', b"\xff\xfe"])
def test_malformed_body_fails_without_raising(body: bytes):
    assert verify_event_signature(body, "mac=" + "0" * 64, KEY) is False


def test_non_bytes_body_is_refused():
    header = signature_header(EVENT["app_id"], RAW, EVENT["timestamp"], KEY)
    assert verify_event_signature(RAW.decode(), header, KEY) is False  # type: ignore[arg-type]


def test_appsecret_proof_is_hmac_sha256_hex_of_the_token():
    expected = hmac.new(b"app-secret", b"access-token", hashlib.sha256).hexdigest()
    assert appsecret_proof("access-token", "app-secret") == expected


def test_pkce_challenge_is_base64url_without_padding():
    # RFC 7636 appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
