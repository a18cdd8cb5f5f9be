"""Signatures and proofs used by Zalo (see docs/zalo-api.md, "Webhooks" and "General rules").

- Webhook events (Zalo → portal) carry ``X-ZEvent-Signature: mac=<hex>`` where ``hex`` is the plain
  SHA-256 (not HMAC) of ``app_id + raw_body + timestamp + oa_secret_key``; ``app_id`` and
  ``timestamp`` are read from the JSON body, the raw body is the exact bytes received and the key is
  the OA secret key (not the app secret).
- ``appsecret_proof`` (optional header on API calls) is the lowercase hex HMAC-SHA256 of the access
  token keyed with the app secret.
- PKCE for the first OAuth grant: ``code_challenge`` is base64url without padding of SHA-256 of a
  43-character ``code_verifier``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string

SIGNATURE_HEADER = "X-ZEvent-Signature"

_HEX = frozenset(string.hexdigits.lower())


def _text(value: object) -> str:
    """A body field as the text that was concatenated when signing (ids and timestamps are strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("app_id and timestamp must be strings")


def event_signature(app_id: str, raw_body: bytes | str, timestamp: str, oa_secret_key: str) -> str:
    """Lowercase hex SHA-256 of ``app_id + raw_body + timestamp + oa_secret_key``."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    digest = hashlib.sha256()
    digest.update(_text(app_id).encode("utf-8"))
    digest.update(raw_body)
    digest.update(_text(timestamp).encode("utf-8"))
    digest.update(oa_secret_key.encode("utf-8"))
    return digest.hexdigest()


def signature_header(app_id: str, raw_body: bytes | str, timestamp: str, oa_secret_key: str) -> str:
    """The value of ``X-ZEvent-Signature`` for an event: ``"mac=<hex>"``."""
    return "mac=" + event_signature(app_id, raw_body, timestamp, oa_secret_key)


def sign_event_body(raw_body: bytes, oa_secret_key: str) -> str:
    """``signature_header`` with ``app_id`` and ``timestamp`` taken from the JSON body (used by the fake)."""
    event = json.loads(raw_body)
    return signature_header(event["app_id"], raw_body, event["timestamp"], oa_secret_key)


def verify_event_signature(raw_body: bytes, header_value: str | None, oa_secret_key: str) -> bool:
    """True only when ``header_value`` is ``mac=<hex>`` and matches the body signed with the OA secret key.

    Never raises: a missing or malformed header, a body that is not a JSON object with string
    ``app_id`` and ``timestamp``, or an empty key all give False. The comparison is constant-time.
    """
    try:
        if not header_value or not oa_secret_key or not isinstance(raw_body, bytes | bytearray):
            return False
        scheme, sep, given = header_value.strip().partition("=")
        if not sep or scheme.strip().lower() != "mac":
            return False
        given = given.strip().lower()
        if len(given) != 64 or not set(given) <= _HEX:
            return False
        event = json.loads(bytes(raw_body))
        if not isinstance(event, dict):
            return False
        expected = event_signature(event["app_id"], bytes(raw_body), event["timestamp"], oa_secret_key)
        return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
    except (ValueError, KeyError, TypeError, UnicodeError, RecursionError):
        return False


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(app_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256).hexdigest()


_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"


def make_code_verifier(length: int = 43) -> str:
    """A random PKCE ``code_verifier`` (43 characters by default, as Zalo's SDK uses)."""
    if not 43 <= length <= 128:
        raise ValueError("a PKCE code_verifier has 43 to 128 characters")
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(length))


def code_challenge(code_verifier: str) -> str:
    """base64url without padding of SHA-256 of the verifier."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
