"""Zalo's wire protocol as the fake serves it: paths, request/response records, error answers, signing.

The paths are written out independently of ``zalo.client`` on purpose: the tests check that the client
and the fake agree with each other and with docs/zalo-api.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

# The paths of the real platform, written out independently of zalo.client on purpose: the tests
# check that the client and the fake agree with each other and with docs/zalo-api.md.
P_TOKEN = "/v4/oa/access_token"
P_PERMISSION = "/v4/oa/permission"
P_CS = "/v3.0/oa/message/cs"
P_TEMPLATE = "/v3.0/oa/message/template"
P_QUOTA = "/v3.0/oa/quota/message"
P_FOLLOWERS = "/v3.0/oa/user/getlist"
P_BROADCAST = "/v2.0/oa/message"
P_ARTICLE_CREATE = "/v2.0/article/create"
P_ARTICLE_VERIFY = "/v2.0/article/verify"
P_ZNS = "/message/template"
P_ZNS_QUOTA = "/message/quota"
P_TEMPLATE_INFO = "/template/info/v2"  # an approved template's parameters (name, require, maxLength…)
P_CONVERSATION = "/v2.0/oa/conversation"
# Served by the fake, not called by the portal today (so not in ZALO_PATHS): an article cover upload.
P_ARTICLE_UPLOAD_IMAGE = "/v2.0/article/upload_image"
MAX_CONVERSATION_PAGE = 10
SRC_OA, SRC_USER = 0, 1  # "src" of a conversation message: sent by the OA, or by the user [2nd]

ZALO_PATHS = frozenset(
    {
        P_TOKEN,
        P_PERMISSION,
        P_CS,
        P_TEMPLATE,
        P_QUOTA,
        P_FOLLOWERS,
        P_BROADCAST,
        P_ARTICLE_CREATE,
        P_ARTICLE_VERIFY,
        P_ZNS,
        P_ZNS_QUOTA,
        P_TEMPLATE_INFO,
        P_CONVERSATION,
    }
)
BUSINESS_PATHS = frozenset({P_ZNS, P_ZNS_QUOTA, P_TEMPLATE_INFO})
HOLDABLE_PATHS = frozenset({P_CS, P_TEMPLATE, P_ZNS})

ZNS_PHONE = re.compile(r"84\d{9,10}")
MAX_BODY = 10 * 1024 * 1024
DEFAULT_DEMO_APP = "4318000000000000001:fake-app-secret:2900000000000000001:fake-oa-secret-key:fake-refresh-token-1"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any  # case-insensitive .get()
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


DROP = object()  # handle() result: close the connection without answering


class _Answer(Exception):
    """A Zalo error answer (HTTP 200, negative ``error``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _ok_list(data: list[Any]) -> Response:
    return _json_response({"error": 0, "message": "Success", "data": data})


def _ok(data: dict[str, Any]) -> Response:
    return _json_response({"error": 0, "message": "Success", "data": data})


def _new_id() -> str:
    return secrets.token_hex(16)


def _ms(t: float) -> str:
    return str(int(t * 1000))


def _flat_form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def _json_body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    try:
        data = json.loads(req.body)
    except ValueError:
        raise _Answer(-201, "Tham số không hợp lệ: body không phải JSON") from None
    if not isinstance(data, dict):
        raise _Answer(-201, "Tham số không hợp lệ: body phải là một object JSON")
    return data


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()


def _sign(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    # Independent of zalo.signature on purpose (the tests cross-check the two).
    payload = app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    return "mac=" + hashlib.sha256(payload).hexdigest()


def parse_app_spec(spec: str) -> dict[str, str]:
    """``app_id:app_secret:oa_id:oa_secret_key:refresh_token`` → a registration dict."""
    parts = spec.split(":")
    if len(parts) != 5 or not all(parts[:4]):
        raise ValueError("--app wants app_id:app_secret:oa_id:oa_secret_key:refresh_token")
    keys = ("app_id", "app_secret", "oa_id", "oa_secret_key", "refresh_token")
    return dict(zip(keys, parts, strict=True))


def _coerce(value: Any, current: Any, name: str) -> Any:
    """Convert a control-API/CLI value to the type of the current field value."""
    if name in ("seen_delay", "webhook_url", "seed"):
        return None if value is None else {"seen_delay": float, "webhook_url": str, "seed": int}[name](value)
    if name == "fail_recipients":
        return {str(k): int(v) for k, v in dict(value).items()}
    if name == "fault_paths":
        return [str(p) for p in value]
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(current, int) and not isinstance(current, bool):
        return int(value)
    if isinstance(current, float):
        return float(value)
    if isinstance(current, str):
        return str(value)
    return value
