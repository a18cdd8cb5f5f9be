"""Local fake Zalo: the three Zalo hosts on one localhost port, in memory, with fault switches.

Run it::

    python -m zalo.fake --port 8900 --portal-webhook-url 'http://localhost:8000/zalo/webhook/{oa_id}/' \\
        --app APP_ID:APP_SECRET:OA_ID:OA_SECRET_KEY:REFRESH_TOKEN

and point the portal's three Zalo base URLs (OAuth, OpenAPI, business/ZNS) at ``http://127.0.0.1:8900``.
Open ``http://127.0.0.1:8900/_fake/`` to see what each citizen would have on their phone. In tests use
:func:`run_in_thread`. Only the standard library is used here (no httpx, no Django).

Zalo API served (docs/zalo-api.md; same paths, headers and bodies as the real platform)
========================================================================================

oauth host
  ``POST /v4/oa/access_token``   form-encoded, header ``secret_key``; ``grant_type`` = ``refresh_token`` or
                                 ``authorization_code`` (PKCE S256). Answer
                                 ``{"access_token","refresh_token","expires_in":"90000"}`` or
                                 ``{"error":<neg>,"error_name","error_description"}`` (HTTP 200).
  ``GET  /v4/oa/permission``     human consent page (``app_id, redirect_uri, code_challenge, state``); the
                                 button redirects to ``redirect_uri?code=…&oa_id=…&state=…&code_challenge=…``;
                                 "Từ chối" redirects to ``redirect_uri?error=access_denied&…&state=…``.
openapi host (header ``access_token``; optional ``appsecret_proof``)
  ``POST /v3.0/oa/message/cs``        CS text; user must have interacted within the window, else −230.
  ``POST /v3.0/oa/message/template``  template by user id; user must follow the OA, else −213.
  ``POST /v3.0/oa/quota/message``     last interaction and CS quota for ``{"user_id"}``.
  ``GET  /v3.0/oa/user/getlist``      ``?data={"offset":0,"count":50,"is_follower":true}``; count ≤ 50.
  ``POST /v2.0/oa/message``           broadcast of an article (media/article payload) to all followers.
  ``POST /v2.0/article/create``       → ``data.token``; ``POST /v2.0/article/verify`` ``{"token"}`` →
                                      ``data.id`` (−214 while "processing", see ``article_processing``).
business host (ZNS)
  ``POST /message/template``          ZNS by phone → ``data.{msg_id, sent_time, quota{dailyQuota,remainingQuota}}``.
  ``GET  /message/quota``             → ``data.{dailyQuota, remainingQuota}``.

Errors are HTTP 200 with a negative ``error`` and a Vietnamese ``message``. Codes used: −216 unknown or
superseded token, −220 expired token (ZNS host: −124 for both), −32 rate limit, −230 no interaction
within ``cs_window``, −218 per-user CS quota (only with ``cs_reply_quota``), −213 not a follower,
−234 night ban (template/broadcast), −133 night ban (ZNS), −144 ZNS daily quota, −211 OA quota
(``quota_exhausted`` switch on template/broadcast), −201 bad parameter (also a wrong
``appsecret_proof``), −108 bad phone, −109 unknown template, −111 missing template parameter, −112
template_data not an object. OAuth errors (fake's choice, real values [?]): −14001 bad parameter or
``secret_key``, −14002 unknown app_id, −14014 invalid/used/expired refresh token, −14019 bad code or
code_verifier.

Token rules (choices of this fake)
  Access tokens live ``token_lifetime`` seconds (default 90000). Refresh tokens live
  ``refresh_token_lifetime`` (default 90 days) and are single use: a second use answers −14014 (or an
  empty HTTP 200 body with ``reused_refresh_answer="empty"``, as reported by a third party). Two
  concurrent refreshes with the same token: exactly one wins. When a refresh token is used, the access
  token issued together with it keeps working for ``old_token_grace`` seconds (default 60) and then
  answers −216, so in-flight sends do not fail but a worker that caches tokens notices quickly.

Webhooks (fake → portal)
  Each OA has a webhook URL (its own, or the server default ``webhook_url``; ``{oa_id}`` in the URL is
  replaced). Events are JSON with string ids/timestamps, signed ``X-ZEvent-Signature: mac=<hex>`` with
  hex = SHA-256(app_id + raw body + timestamp + OA secret key), posted from background threads and
  retried ``webhook_retries`` times (1 s, 2 s, …) on a non-2xx answer. Events: ``follow``/``unfollow``,
  ``user_send_text``, and after every accepted CS/template/ZNS message ``user_received_message``
  (``sender`` = OA, ``recipient`` = user id or phone, ``message.{msg_id, tracking_id (ZNS), delivery_time}``)
  after ``delivery_delay`` s, then ``user_seen_message`` (``sender`` = citizen, ``recipient`` = OA,
  ``message.msg_ids[]``; shape [?]) after ``seen_delay`` s (``None``/negative: never).

Control API (not part of Zalo; JSON in and out; never subject to faults)
========================================================================

``GET  /_fake/``                 human page (Vietnamese): each citizen's phone, refresh every 3 s.
``GET  /_fake/health``           ``{"ok": true}``.
``GET  /_fake/apps``             registered OAs (no secrets).
``POST /_fake/apps``             ``{"app_id","app_secret","oa_id","oa_secret_key","refresh_token"?,"webhook_url"?,
                                 "name"?}`` → registers (or updates) an OA, answers its ``refresh_token``.
``POST /_fake/tokens``           ``{"oa_id"}`` → issue a token pair directly (no OAuth round trip).
``POST /_fake/oauth/code``       ``{"oa_id","code_challenge"}`` → ``{"code"}`` (what the consent page does).
``POST /_fake/expire_tokens``    every access token expires now (``{"refresh": true}`` also kills refresh tokens).
``GET  /_fake/options``          current options; ``POST /_fake/options`` ``{name: value}`` changes them.
``GET  /_fake/faults``           current fault switches; ``POST /_fake/faults`` ``{name: value}`` sets some;
                                 ``POST /_fake/faults/clear`` resets all. Switches:
                                 ``rate_limit_next`` N (−32 for the next N requests), ``rate_limit_ratio`` 0..1,
                                 ``http_error_next`` N with ``http_error_status`` (default 503),
                                 ``drop_next`` N (close the socket without answering; with
                                 ``drop_after_processing`` true the request is accepted first — the
                                 "answer lost" case), ``slow_seconds`` (delay before processing; the request
                                 is still processed even if the client gave up) for the next ``slow_next``
                                 requests (0 = every request), ``quota_exhausted`` bool,
                                 ``night_ban`` "off" | "on" | "clock" (22:00–06:00 Asia/Ho_Chi_Minh),
                                 ``fail_recipients`` {user id or phone: error code},
                                 ``fault_paths`` [path prefixes] (empty = every Zalo path),
                                 ``hold_answer_next`` N: the next N accepted messages (CS, template, ZNS)
                                 are accepted, then the answer is held — until the portal has answered the
                                 message's delivery receipt (when a webhook URL is set) and
                                 ``hold_answer_seconds`` more — and finally lost (connection closed): a
                                 client timeout shorter than that sees the receipt arrive before giving up;
                                 with ``hold_answer_until_released`` true the answer is also held until
                                 ``FakeZalo.release_answers()`` (or ``POST /_fake/release``).
``POST /_fake/clock``            ``{"advance": seconds}`` moves the fake's clock forward (token expiry, CS window,
                                 daily quota) — ``GET`` shows it.
``POST /_fake/follow``           ``{"oa_id"?, "user_id", "name"?}`` citizen follows (``follow`` webhook).
``POST /_fake/unfollow``         ``{"oa_id"?, "user_id"}`` (``unfollow`` webhook).
``POST /_fake/send_text``        ``{"oa_id"?, "user_id", "text", "sync"?}`` citizen writes to the OA: records an
                                 interaction and posts a signed ``user_send_text`` (``sync`` true: posted before
                                 answering, the answer carries the portal's HTTP status).
``POST /_fake/interact``         ``{"oa_id"?, "user_id" | "user_ids": [...], "seconds_ago"?}`` sets the last
                                 interaction, no webhook.
``GET  /_fake/users``            ``?oa_id=`` citizens: follower flag, last interaction.
``POST /_fake/templates``        ``{template_id: {"params": [...], "text": "Xin chào <name>"}}`` approved templates;
                                 once any is registered, unknown ids answer −109 and missing params −111.
``GET  /_fake/messages``         accepted messages, filters ``recipient kind oa_id tracking_id key direction``.
``GET  /_fake/count``            ``?key=…`` or ``?tracking_id=…`` → ``{"count": n}`` (accepted sends per key).
``GET  /_fake/stats``            request and message counters, ``duplicates`` (keys accepted more than once).
``GET  /_fake/webhooks``         the last webhook deliveries (status, attempts, event).
``GET  /_fake/conversation``     ``?user_id=…&oa_id=…`` the conversation as ``/v2.0/oa/conversation`` lists it.
``POST /_fake/release``          lose the answers held by ``hold_answer_until_released``.
``POST /_fake/reset``            forget messages, citizens, counters, faults, webhooks log, quotas, clock
                                 offset; keeps OAs and tokens (``{"tokens": true}`` also forgets every issued
                                 token and makes the registered refresh tokens usable again).

``oa_id`` may be omitted when exactly one OA is registered. Idempotency keys of accepted messages:
ZNS → its ``tracking_id``; CS → ``cs|<user>|<text>``; template → ``template|<user>|<template_id>|<data JSON>``;
broadcast → ``broadcast|<oa_id>|<attachment_id>``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import heapq
import hmac
import html
import itertools
import json
import random
import re
import secrets
import socket
import socketserver
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

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
P_CONVERSATION = "/v2.0/oa/conversation"
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
        P_CONVERSATION,
    }
)
BUSINESS_PATHS = frozenset({P_ZNS, P_ZNS_QUOTA})
HOLDABLE_PATHS = frozenset({P_CS, P_TEMPLATE, P_ZNS})

ZNS_PHONE = re.compile(r"84\d{9,10}")
MAX_BODY = 10 * 1024 * 1024
DEFAULT_DEMO_APP = "4318000000000000001:fake-app-secret:2900000000000000001:fake-oa-secret-key:fake-refresh-token-1"


@dataclass
class FakeOptions:
    """Behaviour of the fake (CLI flags, ``run_in_thread`` keywords, ``POST /_fake/options``)."""

    token_lifetime: float = 90000.0
    refresh_token_lifetime: float = 90 * 86400.0
    old_token_grace: float = 60.0
    code_lifetime: float = 600.0
    reused_refresh_answer: str = "error"  # "error" (−14014) or "empty" (HTTP 200, empty body)
    cs_window: float = 7 * 86400.0
    cs_reply_quota: int = 0  # CS messages allowed per interaction; 0 = unlimited
    zns_daily_quota: int = 500
    rate_limit_per_minute: int = 0  # per app; 0 = off (real: about 4000)
    require_appsecret_proof: bool = False
    article_processing: float = 0.0  # seconds during which /v2.0/article/verify answers −214
    webhook_url: str | None = None  # default for OAs without their own; "{oa_id}" is replaced
    webhook_timeout: float = 5.0
    webhook_retries: int = 2
    delivery_delay: float = 0.2
    seen_delay: float | None = 1.0
    max_messages: int = 200_000
    seed: int | None = None


@dataclass
class Faults:
    rate_limit_next: int = 0
    rate_limit_ratio: float = 0.0
    http_error_next: int = 0
    http_error_status: int = 503
    drop_next: int = 0
    drop_after_processing: bool = False
    slow_seconds: float = 0.0
    slow_next: int = 0
    quota_exhausted: bool = False
    night_ban: str = "off"
    fail_recipients: dict[str, int] = field(default_factory=dict)
    fault_paths: list[str] = field(default_factory=list)
    hold_answer_next: int = 0
    hold_answer_seconds: float = 0.0
    hold_answer_until_released: bool = False


@dataclass
class OA:
    app_id: str
    oa_id: str
    oa_secret_key: str
    name: str = ""
    webhook_url: str | None = None

    def public(self) -> dict[str, Any]:
        return {"app_id": self.app_id, "oa_id": self.oa_id, "name": self.name, "webhook_url": self.webhook_url}


@dataclass
class _AccessToken:
    app_id: str
    oa_id: str
    expires_at: float
    dies_at: float | None = None


@dataclass
class _RefreshToken:
    app_id: str
    oa_id: str
    expires_at: float
    access_token: str | None = None
    used: bool = False
    registered: bool = False  # given at registration (CLI/config/control API), not issued by a grant


@dataclass
class _Code:
    app_id: str
    oa_id: str
    challenge: str
    expires_at: float
    used: bool = False


@dataclass
class Citizen:
    oa_id: str
    user_id: str
    name: str = ""
    follower: bool = False
    followed_at: float | None = None
    last_interaction: float | None = None
    reply_remaining: int = 0


@dataclass
class _Article:
    oa_id: str
    token: str
    id: str
    title: str
    description: str
    text: str
    ready_at: float
    author: str = ""
    cover_url: str = ""


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


class _Dispatcher:
    """Posts webhooks from background threads at a due time, with retries; stops cleanly."""

    def __init__(self, fake: FakeZalo, workers: int = 4) -> None:
        self._fake = fake
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fake-zalo-webhook")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(target=self._run, name="fake-zalo-dispatcher", daemon=True)
        self._thread.start()

    def schedule(self, delay: float, job: dict[str, Any]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._seq), job))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            try:
                self._pool.submit(self._deliver, job)
            except RuntimeError:  # pool shut down
                return

    def post(self, job: dict[str, Any]) -> int | None:
        """One attempt; the HTTP status, or None on a transport failure."""
        request = urllib.request.Request(job["url"], data=job["body"], method="POST", headers=job["headers"])
        try:
            with self._opener.open(request, timeout=self._fake.options.webhook_timeout) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (OSError, ValueError):
            return None

    def _deliver(self, job: dict[str, Any]) -> None:
        if self._stopped:
            return
        status = self.post(job)
        job["attempts"] += 1
        ok = status is not None and 200 <= status < 300
        self._fake._webhook_done(job, status, ok)
        if not ok and job["attempts"] <= self._fake.options.webhook_retries:
            self.schedule(float(2 ** (job["attempts"] - 1)), job)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)


class FakeZalo:
    """The in-memory state and the request logic; :class:`FakeZaloServer` only does HTTP."""

    def __init__(self, options: FakeOptions | None = None, faults: Faults | None = None) -> None:
        self.options = options or FakeOptions()
        self.faults = faults or Faults()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified when a message or a webhook is recorded
        self.held_answers = 0  # answers being held by the hold_answer fault right now
        self._answers_released = True
        self._rng = random.Random(self.options.seed)
        self._stop = threading.Event()
        self._clock_offset = 0.0
        self.apps: dict[str, str] = {}  # app_id → app secret
        self.oas: dict[str, OA] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._codes: dict[str, _Code] = {}
        self._articles: dict[str, _Article] = {}  # by token
        self._article_ids: dict[str, _Article] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self._reset_runtime()
        self._dispatcher = _Dispatcher(self)

    # -- time ------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += float(seconds)

    def _vn_now(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC).astimezone(VN_TZ)

    def _night(self) -> bool:
        mode = self.faults.night_ban
        if mode == "on":
            return True
        if mode == "clock":
            hour = self._vn_now().hour
            return hour >= 22 or hour < 6
        return False

    # -- state -----------------------------------------------------------------------------------

    def _reset_runtime(self) -> None:
        self.citizens: dict[tuple[str, str], Citizen] = {}
        self.messages: list[dict[str, Any]] = []
        self.key_counts: Counter[str] = Counter()
        self.request_counts: Counter[str] = Counter()
        self.accepted_counts: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.webhook_counts: Counter[str] = Counter()
        self._zns_used: dict[tuple[str, str], int] = {}
        self._rate_window: dict[str, tuple[int, int]] = {}
        self._clock_offset = 0.0

    def reset(self, tokens: bool = False) -> None:
        with self._lock:
            self._reset_runtime()
            self.faults = Faults()
            self.release_answers()
            if tokens:
                self._access.clear()
                self._codes.clear()
                self._refresh = {k: v for k, v in self._refresh.items() if v.registered}
                for record in self._refresh.values():
                    record.used = False
                    record.expires_at = self.now() + self.options.refresh_token_lifetime

    def register(
        self,
        app_id: str,
        app_secret: str,
        oa_id: str,
        oa_secret_key: str,
        refresh_token: str | None = None,
        webhook_url: str | None = None,
        name: str = "",
    ) -> str:
        """Register (or update) an OA of an app; returns a valid refresh token for it."""
        app_id, oa_id = str(app_id), str(oa_id)
        with self._lock:
            self.apps[app_id] = app_secret
            previous = self.oas.get(oa_id)
            self.oas[oa_id] = OA(
                app_id,
                oa_id,
                oa_secret_key,
                name or (previous.name if previous else "") or f"OA {oa_id}",
                webhook_url if webhook_url is not None else (previous.webhook_url if previous else None),
            )
            refresh_token = refresh_token or secrets.token_urlsafe(32)
            existing = self._refresh.get(refresh_token)
            if existing is None or existing.oa_id != oa_id:
                self._refresh[refresh_token] = _RefreshToken(
                    app_id, oa_id, self.now() + self.options.refresh_token_lifetime, registered=True
                )
            return refresh_token

    def issue_tokens(self, oa_id: str) -> dict[str, str]:
        """A fresh pair for an OA without the OAuth round trip (control API / tests)."""
        with self._lock:
            oa = self._oa(oa_id)
            return self._issue_pair(oa.app_id, oa.oa_id)

    def _issue_pair(self, app_id: str, oa_id: str) -> dict[str, str]:
        now = self.now()
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        self._access[access] = _AccessToken(app_id, oa_id, now + self.options.token_lifetime)
        self._refresh[refresh] = _RefreshToken(app_id, oa_id, now + self.options.refresh_token_lifetime, access)
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(int(self.options.token_lifetime))}

    def expire_tokens(self, refresh: bool = False) -> None:
        with self._lock:
            now = self.now()
            for token in self._access.values():
                token.expires_at = min(token.expires_at, now - 1)
            if refresh:
                for rt in self._refresh.values():
                    rt.expires_at = min(rt.expires_at, now - 1)

    def issue_code(self, oa_id: str, code_challenge: str) -> str:
        with self._lock:
            oa = self._oa(oa_id)
            code = secrets.token_urlsafe(32)
            self._codes[code] = _Code(oa.app_id, oa.oa_id, code_challenge, self.now() + self.options.code_lifetime)
            return code

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in changes.items():
                if name not in {f.name for f in fields(Faults)}:
                    raise ValueError(f"unknown fault switch {name!r}")
                if name == "night_ban":
                    value = {True: "on", False: "off"}.get(value, value)
                    if value not in ("on", "off", "clock"):
                        raise ValueError("night_ban is on, off or clock")
                setattr(self.faults, name, _coerce(value, getattr(self.faults, name), name))
                if name == "hold_answer_until_released" and self.faults.hold_answer_until_released:
                    self._answers_released = False
            return asdict(self.faults)

    def release_answers(self) -> None:
        """Let the answers held by ``hold_answer_until_released`` go (they are lost: connection closed)."""
        with self._changed:
            self._answers_released = True
            self._changed.notify_all()

    def set_options(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in changes.items():
                if name not in {f.name for f in fields(FakeOptions)}:
                    raise ValueError(f"unknown option {name!r}")
                setattr(self.options, name, _coerce(value, getattr(self.options, name), name))
            return asdict(self.options)

    def _oa(self, oa_id: str | None) -> OA:
        if not oa_id:
            if len(self.oas) == 1:
                return next(iter(self.oas.values()))
            raise ValueError("oa_id is required when several OAs are registered")
        try:
            return self.oas[str(oa_id)]
        except KeyError:
            raise ValueError(f"unknown oa_id {oa_id!r}") from None

    def _citizen(self, oa_id: str, user_id: str) -> Citizen:
        key = (oa_id, str(user_id))
        citizen = self.citizens.get(key)
        if citizen is None:
            citizen = self.citizens[key] = Citizen(oa_id, str(user_id))
        return citizen

    # -- citizen simulation ----------------------------------------------------------------------

    def follow(self, user_id: str, oa_id: str | None = None, name: str = "") -> dict[str, Any]:
        with self._lock:
            oa = self._oa(oa_id)
            citizen = self._citizen(oa.oa_id, user_id)
            citizen.name = name or citizen.name
            if not citizen.follower:
                citizen.follower, citizen.followed_at = True, self.now()
            event = self._follow_event(oa, citizen.user_id, "follow")
        return self._emit(oa, event)

    def unfollow(self, user_id: str, oa_id: str | None = None) -> dict[str, Any]:
        with self._lock:
            oa = self._oa(oa_id)
            citizen = self._citizen(oa.oa_id, user_id)
            citizen.follower, citizen.followed_at = False, None
            event = self._follow_event(oa, citizen.user_id, "unfollow")
        return self._emit(oa, event)

    def interact(self, user_id: str, oa_id: str | None = None, seconds_ago: float = 0.0) -> None:
        with self._lock:
            oa = self._oa(oa_id)
            self._touch(self._citizen(oa.oa_id, user_id), self.now() - float(seconds_ago))

    def _touch(self, citizen: Citizen, at: float) -> None:
        citizen.last_interaction = at
        citizen.reply_remaining = self.options.cs_reply_quota

    def send_text(self, user_id: str, text: str, oa_id: str | None = None, sync: bool = False) -> dict[str, Any]:
        """The citizen writes to the OA: interaction + inbound message + signed ``user_send_text``."""
        with self._lock:
            oa = self._oa(oa_id)
            now = self.now()
            citizen = self._citizen(oa.oa_id, user_id)
            self._touch(citizen, now)
            msg_id = _new_id()
            self._record(
                {
                    "kind": "in",
                    "direction": "in",
                    "oa_id": oa.oa_id,
                    "recipient": citizen.user_id,
                    "text": str(text),
                    "msg_id": msg_id,
                    "key": None,
                }
            )
            event = {
                "app_id": oa.app_id,
                "user_id_by_app": citizen.user_id,
                "event_name": "user_send_text",
                "sender": {"id": citizen.user_id},
                "recipient": {"id": oa.oa_id},
                "message": {"text": str(text), "msg_id": msg_id},
                "timestamp": _ms(now),
            }
        result = self._emit(oa, event, sync=sync)
        result["msg_id"] = msg_id
        return result

    def _follow_event(self, oa: OA, user_id: str, name: str) -> dict[str, Any]:
        return {
            "app_id": oa.app_id,
            "oa_id": oa.oa_id,
            "user_id_by_app": user_id,
            "event_name": name,
            "follower": {"id": user_id},
            "source": "oa_profile",
            "timestamp": _ms(self.now()),
        }

    # -- webhooks --------------------------------------------------------------------------------

    def _webhook_url(self, oa: OA) -> str | None:
        url = oa.webhook_url or self.options.webhook_url
        return url.replace("{oa_id}", oa.oa_id) if url else None

    def _emit(self, oa: OA, event: dict[str, Any], delay: float = 0.0, sync: bool = False) -> dict[str, Any]:
        url = self._webhook_url(oa)
        if not url:
            return {"webhook": None, "event": event}
        raw = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "FakeZalo-Webhook/1.0",
            "X-ZEvent-Signature": _sign(oa.app_id, raw, event["timestamp"], oa.oa_secret_key),
        }
        job = {"url": url, "body": raw, "headers": headers, "attempts": 0, "event_name": event["event_name"]}
        if sync:
            status = self._dispatcher.post(job)
            job["attempts"] = 1
            self._webhook_done(job, status, status is not None and 200 <= status < 300)
            return {"webhook": url, "status": status, "event": event}
        self._dispatcher.schedule(delay, job)
        return {"webhook": url, "status": "queued", "event": event}

    def _webhook_done(self, job: dict[str, Any], status: int | None, ok: bool) -> None:
        with self._lock:
            self.webhook_counts["sent" if ok else "failed"] += 1
            self.webhook_log.append(
                {
                    "time": _ms(time.time()),
                    "url": job["url"],
                    "event_name": job["event_name"],
                    "status": status,
                    "ok": ok,
                    "attempt": job["attempts"],
                    "body": job["body"].decode("utf-8", "replace"),
                }
            )
            self._changed.notify_all()

    def _schedule_receipts(self, oa: OA, recipient: str, msg_id: str, tracking_id: str | None) -> None:
        if not self._webhook_url(oa):
            return
        delivered = self.now() + max(0.0, self.options.delivery_delay)
        message: dict[str, Any] = {"msg_id": msg_id}
        if tracking_id is not None:
            message["tracking_id"] = tracking_id
        message["delivery_time"] = _ms(delivered)
        received = {
            "app_id": oa.app_id,
            "event_name": "user_received_message",
            "sender": {"id": oa.oa_id},
            "recipient": {"id": recipient},
            "message": message,
            "timestamp": _ms(delivered),
        }
        self._emit(oa, received, delay=self.options.delivery_delay)
        seen_delay = self.options.seen_delay
        if seen_delay is not None and seen_delay >= 0:
            total = max(0.0, self.options.delivery_delay) + seen_delay
            seen = {
                "app_id": oa.app_id,
                "event_name": "user_seen_message",
                "sender": {"id": recipient},
                "recipient": {"id": oa.oa_id},
                "message": {"msg_ids": [msg_id]},
                "timestamp": _ms(self.now() + total),
            }
            self._emit(oa, seen, delay=total)

    # -- records ---------------------------------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry.setdefault("time", _ms(self.now()))
        self.messages.append(entry)
        if entry.get("direction") == "out":
            self.accepted_counts[entry["kind"]] += 1
        overflow = len(self.messages) - self.options.max_messages
        if overflow > 0:
            del self.messages[:overflow]
        with self._changed:
            self._changed.notify_all()
        return entry

    def wait_until(self, predicate: Any, timeout: float = 15.0) -> Any:
        """Block until ``predicate(self)`` is true (checked under the lock whenever a message or a
        webhook outcome is recorded); returns its value, or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (value := predicate(self)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the fake Zalo never reached the awaited state")
                self._changed.wait(remaining)
            return value

    def find_messages(self, **filters: str | None) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in filters.items() if v not in (None, "")}
        with self._lock:
            return [dict(m) for m in self.messages if all(str(m.get(k)) == str(v) for k, v in wanted.items())]

    def count(self, key: str) -> int:
        with self._lock:
            return self.key_counts.get(key, 0)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self.request_counts.values()),
                "requests_by_path": dict(self.request_counts),
                "accepted": dict(self.accepted_counts),
                "faults_injected": dict(self.fault_counts),
                "webhooks": {**dict(self.webhook_counts), "pending": self._dispatcher.pending()},
                "keys": len(self.key_counts),
                "duplicates": {k: n for k, n in self.key_counts.items() if n > 1},
                "messages": len(self.messages),
                "citizens": len(self.citizens),
                "clock_offset": self._clock_offset,
            }

    # -- HTTP entry point ------------------------------------------------------------------------

    def handle(self, req: Request) -> Response | object:
        if req.path == "/_fake" or req.path.startswith("/_fake/"):
            return self._control(req)
        if req.path == P_PERMISSION:
            return self._permission(req)
        route = self._routes.get((req.method, req.path))
        if route is None:
            return _json_response({"error": -404, "message": f"Không có API {req.method} {req.path}"}, 404)
        with self._lock:
            self.request_counts[req.path] += 1
            decision = self._take_faults(req.path)
        if decision == "drop_before":
            return DROP
        if decision == "http":
            status = self.faults.http_error_status
            return _json_response({"error": -500, "message": "Lỗi máy chủ (giả lập)"}, status)
        if decision == "rate":
            return _json_response({"error": -32, "message": "Vượt quá giới hạn số lần gọi API (giả lập)"})
        if isinstance(decision, tuple):  # ("slow", seconds, drop_after)
            if self._stop.wait(decision[1]):
                return DROP
            decision = decision[2]
        try:
            response = route(self, req)
        except _Answer as answer:
            response = _json_response({"error": answer.code, "message": answer.message})
        if decision == "drop_after":
            return DROP
        if req.path in HOLDABLE_PATHS and self._hold_answer(req.path, response):
            return DROP
        return response

    def _hold_answer(self, path: str, response: Response) -> bool:
        """The "accepted, answer lost" fault: hold an accepted message's answer, then lose it.

        Held until the portal has acknowledged the message's delivery receipt (if a webhook URL is
        set), then until released (``hold_answer_until_released``), then ``hold_answer_seconds``
        more; returns False when the fault is not armed."""
        try:
            data = json.loads(response.body).get("data") or {}
        except (ValueError, AttributeError):
            return False
        msg_id = str(data.get("msg_id") or data.get("message_id") or "")
        if not msg_id:
            return False  # refused: nothing was accepted, the answer goes back as is
        with self._changed:
            paths = self.faults.fault_paths
            if self.faults.hold_answer_next <= 0 or (paths and not any(path.startswith(p) for p in paths)):
                return False
            self.faults.hold_answer_next -= 1
            self.fault_counts["hold_answer"] += 1
            message = next((m for m in reversed(self.messages) if m.get("msg_id") == msg_id), None)
            oa = self.oas.get(message["oa_id"]) if message else None
            has_webhook = bool(oa and self._webhook_url(oa))
            seconds = self.faults.hold_answer_seconds
            until_released = self.faults.hold_answer_until_released
            self.held_answers += 1
            self._changed.notify_all()
        try:
            self._hold(msg_id, has_webhook, until_released, seconds)
        finally:
            with self._changed:
                self.held_answers -= 1
                self._changed.notify_all()
        return True

    def _hold(self, msg_id: str, has_webhook: bool, until_released: bool, seconds: float) -> None:
        def receipt_acknowledged(fake: FakeZalo) -> bool:
            return fake._stop.is_set() or any(
                w["ok"] and w["event_name"] == "user_received_message" and f'"msg_id":"{msg_id}"' in w["body"]
                for w in fake.webhook_log
            )

        if has_webhook:
            with contextlib.suppress(TimeoutError):
                self.wait_until(receipt_acknowledged, timeout=60)
        if until_released:
            with contextlib.suppress(TimeoutError):
                self.wait_until(lambda fake: fake._answers_released or fake._stop.is_set(), timeout=300)
        self._stop.wait(seconds)

    def _take_faults(self, path: str) -> Any:
        """Decide, under the lock, which fault (if any) this request gets; counters go down here."""
        f = self.faults
        if f.fault_paths and not any(path.startswith(p) for p in f.fault_paths):
            return None
        if f.drop_next > 0 and not f.drop_after_processing:
            f.drop_next -= 1
            self.fault_counts["drop"] += 1
            return "drop_before"
        if f.http_error_next > 0:
            f.http_error_next -= 1
            self.fault_counts["http_error"] += 1
            return "http"
        if f.rate_limit_next > 0:
            f.rate_limit_next -= 1
            self.fault_counts["rate_limit"] += 1
            return "rate"
        if f.rate_limit_ratio > 0 and self._rng.random() < f.rate_limit_ratio:
            self.fault_counts["rate_limit"] += 1
            return "rate"
        after = None
        if f.drop_next > 0 and f.drop_after_processing:
            f.drop_next -= 1
            self.fault_counts["drop_after_processing"] += 1
            after = "drop_after"
        if f.slow_seconds > 0:
            delay = f.slow_seconds
            if f.slow_next > 0:
                f.slow_next -= 1
                if f.slow_next == 0:
                    f.slow_seconds = 0.0
            self.fault_counts["slow"] += 1
            return ("slow", delay, after)
        return after

    # -- auth ------------------------------------------------------------------------------------

    def _auth(self, req: Request) -> OA:
        business = req.path in BUSINESS_PATHS
        token = req.headers.get("access_token")
        with self._lock:
            record = self._access.get(token) if token else None
            now = self.now()
            if record is None or (record.dies_at is not None and now >= record.dies_at):
                raise _Answer(-124 if business else -216, "Access token không hợp lệ")
            if now >= record.expires_at:
                raise _Answer(-124 if business else -220, "Access token đã hết hạn")
            oa = self.oas[record.oa_id]
            proof = req.headers.get("appsecret_proof")
            if proof is not None or self.options.require_appsecret_proof:
                expected = hmac.new(self.apps[oa.app_id].encode(), token.encode(), hashlib.sha256).hexdigest()
                if not proof or not hmac.compare_digest(expected, proof.strip().lower()):
                    raise _Answer(-201, "appsecret_proof không hợp lệ")
            limit = self.options.rate_limit_per_minute
            if limit > 0:
                minute = int(now // 60)
                window, used = self._rate_window.get(oa.app_id, (minute, 0))
                used = used + 1 if window == minute else 1
                self._rate_window[oa.app_id] = (minute, used)
                if used > limit:
                    self.fault_counts["rate_limit_per_minute"] += 1
                    raise _Answer(-32, "Ứng dụng đã vượt quá giới hạn số lần gọi API mỗi phút")
            return oa

    def _recipient_fault(self, recipient: str) -> None:
        code = self.faults.fail_recipients.get(recipient)
        if code is not None:
            raise _Answer(int(code), f"Người nhận {recipient} không thể nhận tin (giả lập lỗi {code})")

    # -- Zalo endpoints --------------------------------------------------------------------------

    def _oauth_error(self, code: int, name: str, description: str) -> Response:
        return _json_response({"error": code, "error_name": name, "error_description": description})

    def _token(self, req: Request) -> Response:
        form = _flat_form(req.body)
        app_id = form.get("app_id", "")
        with self._lock:
            secret = self.apps.get(app_id)
            if secret is None:
                return self._oauth_error(-14002, "Invalid app_id", "app_id không tồn tại")
            if not hmac.compare_digest(secret.encode(), (req.headers.get("secret_key") or "").encode()):
                return self._oauth_error(-14001, "Invalid secret_key", "secret_key không đúng")
            now = self.now()
            grant = form.get("grant_type")
            if grant == "refresh_token":
                given = form.get("refresh_token", "")
                record = self._refresh.get(given)
                if record is None or record.app_id != app_id or record.used or now >= record.expires_at:
                    if record is not None and record.used and self.options.reused_refresh_answer == "empty":
                        return Response(200, b"")
                    return self._oauth_error(-14014, "Invalid refresh token", "Refresh token không hợp lệ")
                record.used = True
                old = self._access.get(record.access_token) if record.access_token else None
                if old is not None:
                    dies = now + max(0.0, self.options.old_token_grace)
                    old.dies_at = dies if old.dies_at is None else min(old.dies_at, dies)
                return _json_response(self._issue_pair(app_id, record.oa_id))
            if grant == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                verifier = form.get("code_verifier", "")
                if code is None or code.used or code.app_id != app_id or now >= code.expires_at:
                    return self._oauth_error(-14019, "Invalid code", "Authorization code không hợp lệ")
                if not verifier or not hmac.compare_digest(_challenge(verifier), code.challenge):
                    return self._oauth_error(-14019, "Invalid code_verifier", "code_verifier không khớp")
                code.used = True
                pair = self._issue_pair(app_id, code.oa_id)
                return _json_response(pair)
            return self._oauth_error(-14001, "Invalid grant_type", "grant_type không hợp lệ")

    def _cs(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        user_id, text = recipient.get("user_id"), message.get("text")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu recipient.user_id")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise _Answer(-201, "Tham số không hợp lệ: message.text rỗng hoặc dài quá 2000 ký tự")
        user_id = str(user_id)
        with self._lock:
            self._recipient_fault(user_id)
            citizen = self.citizens.get((oa.oa_id, user_id))
            now = self.now()
            if citizen is None or citizen.last_interaction is None:
                raise _Answer(-230, "Người dùng chưa tương tác với OA")
            if now - citizen.last_interaction > self.options.cs_window:
                raise _Answer(-230, "Người dùng không tương tác với OA trong thời gian cho phép")
            if self.options.cs_reply_quota > 0:
                if citizen.reply_remaining <= 0:
                    raise _Answer(-218, "Đã hết hạn mức tin tư vấn cho người dùng này")
                citizen.reply_remaining -= 1
            msg_id = _new_id()
            key = f"cs|{user_id}|{text}"
            self.key_counts[key] += 1
            self._record(
                {
                    "kind": "cs",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": user_id,
                    "text": text,
                    "msg_id": msg_id,
                    "key": key,
                }
            )
            self._schedule_receipts(oa, user_id, msg_id, None)
            quota: dict[str, str] = {"quota_type": "reply", "owner_type": "OA", "owner_id": oa.oa_id}
            if self.options.cs_reply_quota > 0:
                quota.update(remain=str(citizen.reply_remaining), total=str(self.options.cs_reply_quota))
            return _ok({"message_id": msg_id, "user_id": user_id, "quota": quota})

    def _validate_template(self, template_id: Any, template_data: Any) -> str:
        if not isinstance(template_id, str | int) or not str(template_id):
            raise _Answer(-109, "template_id không hợp lệ")
        template_id = str(template_id)
        if not isinstance(template_data, dict):
            raise _Answer(-112, "template_data không hợp lệ: phải là một object")
        if self.templates:
            spec = self.templates.get(template_id)
            if spec is None:
                raise _Answer(-109, f"Template {template_id} chưa được duyệt")
            missing = [p for p in spec.get("params", []) if p not in template_data]
            if missing:
                raise _Answer(-111, "template_data thiếu tham số: " + ", ".join(missing))
        return template_id

    def _template(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        user_id = body.get("user_id")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu user_id")
        user_id = str(user_id)
        template_data = body.get("template_data")
        with self._lock:
            template_id = self._validate_template(body.get("template_id"), template_data)
            if self._night():
                raise _Answer(-234, "Không được gửi tin trong khung giờ 22:00–06:00")
            if self.faults.quota_exhausted:
                raise _Answer(-211, "OA đã hết hạn mức gửi tin")
            citizen = self.citizens.get((oa.oa_id, user_id))
            if citizen is None or not citizen.follower:
                raise _Answer(-213, "Người dùng chưa quan tâm OA")
            self._recipient_fault(user_id)
            msg_id = _new_id()
            data_json = json.dumps(template_data, ensure_ascii=False, sort_keys=True)
            key = f"template|{user_id}|{template_id}|{data_json}"
            self.key_counts[key] += 1
            now = self.now()
            self._record(
                {
                    "kind": "template",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": user_id,
                    "template_id": template_id,
                    "template_data": template_data,
                    "text": self._render(template_id, template_data),
                    "msg_id": msg_id,
                    "key": key,
                }
            )
            self._schedule_receipts(oa, user_id, msg_id, None)
            return _ok({"message_id": msg_id, "user_id": user_id, "sent_time": _ms(now)})

    def _zns(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        phone = body.get("phone")
        if not isinstance(phone, str) or not ZNS_PHONE.fullmatch(phone) or not phone.isascii():
            raise _Answer(-108, "Số điện thoại không hợp lệ (định dạng 84xxxxxxxxx)")
        tracking_id = body.get("tracking_id")
        if tracking_id is not None and (not isinstance(tracking_id, str) or len(tracking_id) > 48):
            raise _Answer(-201, "tracking_id không hợp lệ (tối đa 48 ký tự)")
        mode = body.get("mode")
        if mode not in (None, "development"):
            raise _Answer(-201, "mode không hợp lệ")
        template_data = body.get("template_data")
        with self._lock:
            template_id = self._validate_template(body.get("template_id"), template_data)
            if self._night():
                raise _Answer(-133, "Không được gửi ZNS trong khung giờ 22:00–06:00")
            day = self._vn_now().date().isoformat()
            used = self._zns_used.get((oa.oa_id, day), 0)
            daily = self.options.zns_daily_quota
            if self.faults.quota_exhausted or used >= daily:
                raise _Answer(-144, "OA đã vượt hạn mức gửi ZNS trong ngày")
            self._recipient_fault(phone)
            used += 1
            self._zns_used[(oa.oa_id, day)] = used
            msg_id = _new_id()
            now = self.now()
            key = tracking_id if tracking_id else f"zns|{phone}|{msg_id}"
            self.key_counts[key] += 1
            self._record(
                {
                    "kind": "zns",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": phone,
                    "template_id": template_id,
                    "template_data": template_data,
                    "text": self._render(template_id, template_data),
                    "tracking_id": tracking_id,
                    "development": mode == "development",
                    "msg_id": msg_id,
                    "key": key,
                }
            )
            self._schedule_receipts(oa, phone, msg_id, tracking_id)
            return _ok(
                {
                    "msg_id": msg_id,
                    "sent_time": _ms(now),
                    "quota": {"dailyQuota": str(daily), "remainingQuota": str(max(0, daily - used))},
                }
            )

    def _zns_quota(self, req: Request) -> Response:
        oa = self._auth(req)
        with self._lock:
            used = self._zns_used.get((oa.oa_id, self._vn_now().date().isoformat()), 0)
            daily = self.options.zns_daily_quota
            remaining = 0 if self.faults.quota_exhausted else max(0, daily - used)
            return _ok({"dailyQuota": str(daily), "remainingQuota": str(remaining)})

    def _quota(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        user_id = body.get("user_id")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu user_id")
        with self._lock:
            citizen = self.citizens.get((oa.oa_id, str(user_id)))
            last = citizen.last_interaction if citizen else None
            now = self.now()
            in_window = last is not None and now - last <= self.options.cs_window
            data: dict[str, Any] = {
                "user_id": str(user_id),
                "is_follower": bool(citizen and citizen.follower),
                "last_interaction": _ms(last) if last is not None else "",
                "cs_expired_time": _ms(last + self.options.cs_window) if last is not None else "",
                "can_send_cs": in_window,
                "quota_type": "reply",
            }
            if self.options.cs_reply_quota > 0:
                remain = citizen.reply_remaining if (citizen and in_window) else 0
                data.update(remain=str(remain), total=str(self.options.cs_reply_quota))
            return _ok(data)

    def _followers(self, req: Request) -> Response:
        oa = self._auth(req)
        raw = (req.query.get("data") or [""])[-1]
        try:
            params = json.loads(raw) if raw else {}
            offset = int(params.get("offset", 0))
            count = int(params.get("count", 0))
        except (ValueError, TypeError, AttributeError):
            raise _Answer(-201, "Tham số không hợp lệ: data phải là JSON") from None
        if offset < 0 or offset > 10000 or not 1 <= count <= 50:
            raise _Answer(-201, "Tham số không hợp lệ: 0 ≤ offset ≤ 10000, 1 ≤ count ≤ 50")
        only_followers = params.get("is_follower", True) not in (False, "false", 0)
        with self._lock:
            users = [c for c in self.citizens.values() if c.oa_id == oa.oa_id and (c.follower or not only_followers)]
            users.sort(key=lambda c: (c.followed_at or 0.0, c.user_id))
            page = users[offset : offset + count]
            return _ok(
                {
                    "total": len(users),
                    "count": len(page),
                    "offset": offset,
                    "users": [{"user_id": c.user_id} for c in page],
                }
            )

    def _conversation(self, req: Request) -> Response:
        """The latest messages between the OA and one user, newest first (count ≤ 10)."""
        oa = self._auth(req)
        raw = (req.query.get("data") or [""])[-1]
        try:
            params = json.loads(raw) if raw else {}
            user_id = str(params.get("user_id", ""))
            offset = int(params.get("offset", 0))
            count = int(params.get("count", MAX_CONVERSATION_PAGE))
        except (ValueError, TypeError, AttributeError):
            raise _Answer(-201, "Tham số không hợp lệ: data phải là JSON") from None
        if not user_id or offset < 0 or not 1 <= count <= MAX_CONVERSATION_PAGE:
            raise _Answer(-201, f"Tham số không hợp lệ: cần user_id, 0 ≤ offset, 1 ≤ count ≤ {MAX_CONVERSATION_PAGE}")
        with self._lock:
            return _ok_list(self.conversation(oa.oa_id, user_id)[offset : offset + count])

    def conversation(self, oa_id: str, user_id: str) -> list[dict[str, Any]]:
        """What ``/v2.0/oa/conversation`` lists for one user, newest first (``message`` is the text)."""
        with self._lock:
            found = [
                m
                for m in self.messages
                if m.get("oa_id") == oa_id
                and m.get("recipient") == user_id
                and m.get("kind") in ("in", "cs", "template")
            ]
            return [
                {
                    "src": SRC_USER if m["direction"] == "in" else SRC_OA,
                    "time": m["time"],
                    "type": "template" if m["kind"] == "template" else "text",
                    "message": m.get("text", ""),
                    "message_id": m["msg_id"],
                    "from_id": user_id if m["direction"] == "in" else oa_id,
                    "to_id": oa_id if m["direction"] == "in" else user_id,
                }
                for m in reversed(found)
            ]

    def _article_create(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        title = body.get("title")
        blocks = body.get("body")
        if body.get("type", "normal") != "normal":
            raise _Answer(-201, "Tham số không hợp lệ: chỉ hỗ trợ bài viết type=normal")
        if not isinstance(title, str) or not title.strip() or len(title) > 150:
            raise _Answer(-201, "Tham số không hợp lệ: title rỗng hoặc dài quá 150 ký tự")
        if not isinstance(blocks, list) or not blocks:
            raise _Answer(-201, "Tham số không hợp lệ: body phải là danh sách khối nội dung")
        author, description, cover = body.get("author"), body.get("description"), body.get("cover")
        if not isinstance(author, str) or not author.strip() or len(author) > 50:
            raise _Answer(-201, "Tham số không hợp lệ: author bắt buộc, tối đa 50 ký tự")
        if not isinstance(description, str) or not description.strip() or len(description) > 300:
            raise _Answer(-201, "Tham số không hợp lệ: description bắt buộc, tối đa 300 ký tự")
        if not isinstance(cover, dict) or cover.get("cover_type") != "photo":
            raise _Answer(-201, "Tham số không hợp lệ: cover.cover_type phải là photo")
        cover_url = cover.get("photo_url")
        if not isinstance(cover_url, str) or not cover_url.startswith(("https://", "http://")):
            raise _Answer(-201, "Tham số không hợp lệ: cover.photo_url phải là địa chỉ ảnh")
        text = "\n".join(str(b.get("content", "")) for b in blocks if isinstance(b, dict))
        with self._lock:
            token = secrets.token_urlsafe(24)
            article = _Article(
                oa.oa_id,
                token,
                _new_id(),
                title,
                str(body.get("description") or ""),
                text,
                self.now() + self.options.article_processing,
                author,
                cover_url,
            )
            self._articles[token] = article
            self._article_ids[article.id] = article
            return _ok({"token": token})

    def _article_verify(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        with self._lock:
            article = self._articles.get(str(body.get("token", "")))
            if article is None or article.oa_id != oa.oa_id:
                raise _Answer(-201, "token bài viết không hợp lệ")
            if self.now() < article.ready_at:
                raise _Answer(-214, "Bài viết đang được xử lý")
            return _ok({"id": article.id})

    def _broadcast(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        recipient = body.get("recipient")
        target = recipient.get("target", {}) if isinstance(recipient, dict) else None
        if not isinstance(target, dict):
            raise _Answer(-201, "Tham số không hợp lệ: recipient.target")
        try:
            attachment = body["message"]["attachment"]
            payload = attachment["payload"]
            elements = payload["elements"]
            ok = attachment["type"] == "template" and payload["template_type"] == "media"
            ok = ok and isinstance(elements, list) and 1 <= len(elements) <= 5
            ok = ok and all(e.get("media_type") == "article" for e in elements)
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise _Answer(-201, "Chỉ có thể broadcast bài viết (template media/article)")
        with self._lock:
            articles = [self._article_ids.get(str(e.get("attachment_id"))) for e in elements]
            if any(a is None or a.oa_id != oa.oa_id or self.now() < a.ready_at for a in articles):
                raise _Answer(-201, "attachment_id không phải bài viết đã xuất bản của OA")
            if self._night():
                raise _Answer(-234, "Không được broadcast trong khung giờ 22:00–06:00")
            if self.faults.quota_exhausted:
                raise _Answer(-211, "OA đã hết hạn mức broadcast")
            msg_id = _new_id()
            followers = [c for c in self.citizens.values() if c.oa_id == oa.oa_id and c.follower]
            for article in articles:
                assert article is not None
                key = f"broadcast|{oa.oa_id}|{article.id}"
                self.key_counts[key] += 1
                text = article.title + ("\n" + article.description if article.description else "")
                for citizen in followers:
                    self._record(
                        {
                            "kind": "broadcast",
                            "direction": "out",
                            "oa_id": oa.oa_id,
                            "recipient": citizen.user_id,
                            "attachment_id": article.id,
                            "target": target,
                            "text": text,
                            "msg_id": msg_id,
                            "key": key,
                        }
                    )
            return _ok({"message_id": msg_id})

    _routes = {
        ("POST", P_TOKEN): _token,
        ("POST", P_CS): _cs,
        ("POST", P_TEMPLATE): _template,
        ("POST", P_QUOTA): _quota,
        ("GET", P_FOLLOWERS): _followers,
        ("POST", P_BROADCAST): _broadcast,
        ("POST", P_ARTICLE_CREATE): _article_create,
        ("POST", P_ARTICLE_VERIFY): _article_verify,
        ("POST", P_ZNS): _zns,
        ("GET", P_ZNS_QUOTA): _zns_quota,
        ("GET", P_CONVERSATION): _conversation,
    }

    def _render(self, template_id: str, data: Any) -> str:
        spec = self.templates.get(template_id) or {}
        text = spec.get("text")
        if isinstance(text, str) and isinstance(data, dict):
            return re.sub(r"<(\w+)>|\{(\w+)\}", lambda m: str(data.get(m.group(1) or m.group(2), m.group(0))), text)
        if isinstance(data, dict):
            lines = [f"{k}: {v}" for k, v in data.items()]
            return f"[Mẫu {template_id}]\n" + "\n".join(lines)
        return f"[Mẫu {template_id}]"

    # -- OAuth consent page (human) --------------------------------------------------------------

    def _permission(self, req: Request) -> Response:
        if req.method == "POST":
            form = _flat_form(req.body)
        else:
            form = {k: v[-1] for k, v in req.query.items()}
        app_id = form.get("app_id", "")
        redirect_uri = form.get("redirect_uri", "")
        challenge = form.get("code_challenge", "")
        state = form.get("state", "")
        with self._lock:
            oas = [oa for oa in self.oas.values() if oa.app_id == app_id]
        if not oas or not redirect_uri.startswith(("http://", "https://")) or not challenge:
            return _html_response(
                _page("Lỗi cấp quyền", "<p>Thiếu hoặc sai app_id, redirect_uri hoặc code_challenge.</p>"), 400
            )
        if req.method == "POST" and form.get("decision") == "deny":
            query = urlencode(
                {"error": "access_denied", "error_description": "Người dùng từ chối cấp quyền", "state": state}
            )
            location = redirect_uri + ("&" if "?" in redirect_uri else "?") + query
            return Response(302, b"", "text/plain", [("Location", location)])
        if req.method == "POST":
            oa_id = form.get("oa_id", "")
            if oa_id not in {oa.oa_id for oa in oas}:
                return _html_response(_page("Lỗi cấp quyền", "<p>OA không thuộc ứng dụng này.</p>"), 400)
            code = self.issue_code(oa_id, challenge)
            query = urlencode({"code": code, "oa_id": oa_id, "state": state, "code_challenge": challenge})
            location = redirect_uri + ("&" if "?" in redirect_uri else "?") + query
            return Response(302, b"", "text/plain", [("Location", location)])
        e = html.escape
        hidden = (
            "".join(
                f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
                for k, v in (("app_id", app_id), ("redirect_uri", redirect_uri), ("code_challenge", challenge))
            )
            + f'<input type="hidden" name="state" value="{e(state)}">'
        )
        choices = "".join(
            f'<label><input type="radio" name="oa_id" value="{e(oa.oa_id)}"{" checked" if i == 0 else ""}> '
            f"{e(oa.name)} ({e(oa.oa_id)})</label><br>"
            for i, oa in enumerate(oas)
        )
        content = (
            f"<p>Ứng dụng <b>{e(app_id)}</b> xin quyền quản lý Official Account của bạn.</p>"
            f'<form method="post" action="{P_PERMISSION}">{hidden}{choices}'
            "<p>Cho phép ứng dụng quản lý OA đã chọn?</p>"
            f'<button type="submit" name="decision" value="allow">Đồng ý (Allow)</button> '
            f'<button type="submit" name="decision" value="deny">Từ chối</button></form>'
            f"<p class=muted>Sau khi cho phép, trình duyệt quay về {e(redirect_uri)}</p>"
        )
        return _html_response(_page("Cấp quyền cho ứng dụng", content))

    # -- control API -----------------------------------------------------------------------------

    def _control(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        try:
            if path == "/_fake" and req.method == "GET":
                return _html_response(self.render_page(req.query))
            if path == "/_fake/ui/send_text" and req.method == "POST":
                form = _flat_form(req.body)
                if form.get("text", "").strip() and form.get("user_id", "").strip():
                    self.send_text(form["user_id"].strip(), form["text"], form.get("oa_id") or None)
                return self._back(form)
            if path == "/_fake/ui/follow" and req.method == "POST":
                form = _flat_form(req.body)
                if form.get("user_id", "").strip():
                    if form.get("action") == "unfollow":
                        self.unfollow(form["user_id"].strip(), form.get("oa_id") or None)
                    else:
                        self.follow(form["user_id"].strip(), form.get("oa_id") or None)
                return self._back(form)
            handler = _CONTROL_ROUTES.get((req.method, path))
            if handler is None:
                return _json_response({"error": "not found", "path": req.path}, 404)
            body = json.loads(req.body) if req.body.strip() else {}
            query = {k: v[-1] for k, v in req.query.items()}
            return _json_response(handler(self, body, query))
        except (ValueError, TypeError, KeyError) as exc:
            return _json_response({"error": str(exc)}, 400)

    @staticmethod
    def _back(form: dict[str, str]) -> Response:
        back = form.get("back", "/_fake/")
        if not back.startswith("/_fake/") or "//" in back or "\\" in back:
            back = "/_fake/"
        return Response(303, b"", "text/plain", [("Location", back)])

    def _c_apps_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {"apps": [oa.public() for oa in self.oas.values()]}

    def _c_apps_post(self, body: dict, query: dict) -> Any:
        refresh = self.register(
            body["app_id"],
            body["app_secret"],
            body["oa_id"],
            body["oa_secret_key"],
            body.get("refresh_token"),
            body.get("webhook_url"),
            body.get("name", ""),
        )
        return {"oa_id": str(body["oa_id"]), "refresh_token": refresh}

    def _c_tokens(self, body: dict, query: dict) -> Any:
        return self.issue_tokens(body.get("oa_id", ""))

    def _c_code(self, body: dict, query: dict) -> Any:
        return {"code": self.issue_code(body.get("oa_id", ""), body["code_challenge"])}

    def _c_expire(self, body: dict, query: dict) -> Any:
        self.expire_tokens(refresh=bool(body.get("refresh")))
        return {"ok": True}

    def _c_faults_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return asdict(self.faults)

    def _c_faults_post(self, body: dict, query: dict) -> Any:
        return self.set_faults(**body)

    def _c_faults_clear(self, body: dict, query: dict) -> Any:
        with self._lock:
            self.faults = Faults()
            self.release_answers()
            return asdict(self.faults)

    def _c_release(self, body: dict, query: dict) -> Any:
        self.release_answers()
        return {"released": True}

    def _c_options_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return asdict(self.options)

    def _c_options_post(self, body: dict, query: dict) -> Any:
        return self.set_options(**body)

    def _c_clock_get(self, body: dict, query: dict) -> Any:
        return {"now": _ms(self.now()), "offset": self._clock_offset}

    def _c_clock_post(self, body: dict, query: dict) -> Any:
        self.advance_clock(float(body.get("advance", 0)))
        return self._c_clock_get(body, query)

    def _c_follow(self, body: dict, query: dict) -> Any:
        return self.follow(str(body["user_id"]), body.get("oa_id"), body.get("name", ""))

    def _c_unfollow(self, body: dict, query: dict) -> Any:
        return self.unfollow(str(body["user_id"]), body.get("oa_id"))

    def _c_send_text(self, body: dict, query: dict) -> Any:
        return self.send_text(str(body["user_id"]), str(body["text"]), body.get("oa_id"), bool(body.get("sync")))

    def _c_interact(self, body: dict, query: dict) -> Any:
        # "user_ids": many at once (benchmarks seed 100,000 citizens in one call).
        for user_id in body.get("user_ids") or [body["user_id"]]:
            self.interact(str(user_id), body.get("oa_id"), float(body.get("seconds_ago", 0)))
        return {"ok": True}

    def _c_users(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {
                "users": [
                    {
                        "oa_id": c.oa_id,
                        "user_id": c.user_id,
                        "name": c.name,
                        "follower": c.follower,
                        "last_interaction": _ms(c.last_interaction) if c.last_interaction is not None else "",
                    }
                    for c in self.citizens.values()
                    if not query.get("oa_id") or c.oa_id == query["oa_id"]
                ]
            }

    def _c_templates(self, body: dict, query: dict) -> Any:
        with self._lock:
            for template_id, spec in body.items():
                self.templates[str(template_id)] = dict(spec or {})
            return {"templates": self.templates}

    def _c_conversation(self, body: dict, query: dict) -> Any:
        oa = self._oa(query.get("oa_id"))
        return {"messages": self.conversation(oa.oa_id, str(query.get("user_id", "")))}

    def _c_messages(self, body: dict, query: dict) -> Any:
        names = ("recipient", "kind", "oa_id", "tracking_id", "key", "direction", "msg_id")
        found = self.find_messages(**{n: query.get(n) for n in names})
        return {"count": len(found), "messages": found}

    def _c_count(self, body: dict, query: dict) -> Any:
        key = query.get("key") or query.get("tracking_id") or ""
        return {"key": key, "count": self.count(key)}

    def _c_stats(self, body: dict, query: dict) -> Any:
        return self.stats()

    def _c_webhooks(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {"webhooks": list(self.webhook_log)}

    def _c_reset(self, body: dict, query: dict) -> Any:
        self.reset(tokens=bool(body.get("tokens")))
        return {"ok": True}

    def _c_health(self, body: dict, query: dict) -> Any:
        return {"ok": True, "oas": len(self.oas)}

    # -- human page ------------------------------------------------------------------------------

    def render_page(self, query: dict[str, list[str]]) -> str:
        """Each citizen's phone: what they would have seen, newest last (Vietnamese, escaped)."""
        e = html.escape
        chosen = (query.get("r") or [""])[-1]
        with self._lock:
            threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for c in self.citizens.values():
                threads.setdefault((c.oa_id, c.user_id), [])
            for m in self.messages:
                threads.setdefault((m["oa_id"], m["recipient"]), []).append(m)
            names = {k: c.name for k, c in self.citizens.items()}
            followers = {k for k, c in self.citizens.items() if c.follower}
            oa_names = {oa.oa_id: oa.name for oa in self.oas.values()}
            faults = asdict(self.faults)

        def last_time(item: tuple[tuple[str, str], list[dict[str, Any]]]) -> int:
            return int(item[1][-1]["time"]) if item[1] else 0

        ordered = sorted(threads.items(), key=last_time, reverse=True)[:100]
        labels = {
            "cs": "Tin tư vấn",
            "template": "Tin mẫu",
            "zns": "ZNS",
            "broadcast": "Bài viết",
            "in": "Bạn",
        }
        links = " · ".join(
            f'<a href="/_fake/?{e(urlencode({"r": f"{oa}|{who}"}))}">{e(who)}</a>' for (oa, who), _ in ordered
        )
        cards = []
        for (oa_id, who), msgs in ordered:
            if chosen and chosen != f"{oa_id}|{who}":
                continue
            is_phone = bool(ZNS_PHONE.fullmatch(who))
            bubbles = []
            for m in msgs[-50:]:
                when = datetime.fromtimestamp(int(m["time"]) / 1000, UTC).astimezone(VN_TZ).strftime("%d/%m %H:%M")
                side = "in" if m.get("direction") == "in" else "out"
                extra = " · thử nghiệm" if m.get("development") else ""
                bubbles.append(
                    f'<div class="b {side}"><div class="k">{e(labels.get(m["kind"], m["kind"]))}{e(extra)}</div>'
                    f'<div class="t">{e(str(m.get("text", "")))}</div><div class="w">{e(when)}</div></div>'
                )
            if not bubbles:
                bubbles.append('<p class="muted">Chưa có tin nhắn.</p>')
            title = names.get((oa_id, who)) or ("Số điện thoại " + who if is_phone else "Người dùng " + who)
            badge = "Đang quan tâm OA" if (oa_id, who) in followers else ("ZNS" if is_phone else "Chưa quan tâm OA")
            back = "/_fake/?" + urlencode({"r": chosen}) if chosen else "/_fake/"
            form = ""
            if not is_phone:
                hidden = (
                    f'<input type="hidden" name="oa_id" value="{e(oa_id)}">'
                    f'<input type="hidden" name="user_id" value="{e(who)}">'
                    f'<input type="hidden" name="back" value="{e(back)}">'
                )
                action = "unfollow" if (oa_id, who) in followers else "follow"
                verb = "Bỏ quan tâm" if action == "unfollow" else "Quan tâm OA"
                form = (
                    f'<form method="post" action="/_fake/ui/send_text" class="send">{hidden}'
                    f'<input name="text" placeholder="Nhắn tin cho OA…" autocomplete="off">'
                    f'<button type="submit">Gửi</button></form>'
                    f'<form method="post" action="/_fake/ui/follow" class="follow">{hidden}'
                    f'<input type="hidden" name="action" value="{action}"><button type="submit">{verb}</button></form>'
                )
            cards.append(
                f'<section class="phone"><header><b>{e(title)}</b><br><small>{e(oa_names.get(oa_id, oa_id))}'
                f" · {e(badge)}</small></header><div class=chat><div>{''.join(bubbles)}</div></div>{form}</section>"
            )
        oa_options = "".join(f'<option value="{e(k)}">{e(v)}</option>' for k, v in oa_names.items())
        new_citizen = (
            '<form method="post" action="/_fake/ui/send_text" class="new">'
            f'<select name="oa_id">{oa_options}</select>'
            '<input name="user_id" placeholder="Mã người dùng Zalo" autocomplete="off">'
            '<input name="text" placeholder="Nội dung tin nhắn" autocomplete="off">'
            '<button type="submit">Gửi như người dân mới</button></form>'
        )
        active = {k: v for k, v in faults.items() if v not in (0, 0.0, False, "off", {}, [], 503)}
        fault_line = (
            f'<p class="fault">Lỗi giả lập đang bật: {e(json.dumps(active, ensure_ascii=False))}</p>' if active else ""
        )
        content = (
            f"{fault_line}<nav>{links or 'Chưa có người dân nào.'}"
            f"{' · <a href=/_fake/>Tất cả</a>' if chosen else ''}</nav>{new_citizen}"
            f'<div class="grid">{"".join(cards)}</div>'
        )
        return _page("Zalo giả lập — điện thoại của người dân", content, refresh=True)


_CONTROL_ROUTES = {
    ("GET", "/_fake/health"): FakeZalo._c_health,
    ("GET", "/_fake/apps"): FakeZalo._c_apps_get,
    ("POST", "/_fake/apps"): FakeZalo._c_apps_post,
    ("POST", "/_fake/tokens"): FakeZalo._c_tokens,
    ("POST", "/_fake/oauth/code"): FakeZalo._c_code,
    ("POST", "/_fake/expire_tokens"): FakeZalo._c_expire,
    ("GET", "/_fake/faults"): FakeZalo._c_faults_get,
    ("POST", "/_fake/faults"): FakeZalo._c_faults_post,
    ("POST", "/_fake/faults/clear"): FakeZalo._c_faults_clear,
    ("POST", "/_fake/release"): FakeZalo._c_release,
    ("GET", "/_fake/options"): FakeZalo._c_options_get,
    ("POST", "/_fake/options"): FakeZalo._c_options_post,
    ("GET", "/_fake/clock"): FakeZalo._c_clock_get,
    ("POST", "/_fake/clock"): FakeZalo._c_clock_post,
    ("POST", "/_fake/follow"): FakeZalo._c_follow,
    ("POST", "/_fake/unfollow"): FakeZalo._c_unfollow,
    ("POST", "/_fake/send_text"): FakeZalo._c_send_text,
    ("POST", "/_fake/interact"): FakeZalo._c_interact,
    ("GET", "/_fake/users"): FakeZalo._c_users,
    ("POST", "/_fake/templates"): FakeZalo._c_templates,
    ("GET", "/_fake/messages"): FakeZalo._c_messages,
    ("GET", "/_fake/conversation"): FakeZalo._c_conversation,
    ("GET", "/_fake/count"): FakeZalo._c_count,
    ("GET", "/_fake/stats"): FakeZalo._c_stats,
    ("GET", "/_fake/webhooks"): FakeZalo._c_webhooks,
    ("POST", "/_fake/reset"): FakeZalo._c_reset,
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#eef1f5;color:#111}
h1{font-size:18px;margin:0;padding:12px 16px;background:#0068ff;color:#fff}
nav,.new,.fault,p{padding:0 16px}nav{margin:10px 0;line-height:1.8}a{color:#0068ff}
.grid{display:flex;flex-wrap:wrap;gap:16px;padding:16px}
.phone{width:340px;background:#fff;border-radius:24px;box-shadow:0 2px 8px #0002;display:flex;flex-direction:column;
max-height:640px;overflow:hidden;border:8px solid #222}
.phone header{padding:10px 14px;background:#f6f7f9;border-bottom:1px solid #ddd}
.chat{flex:1;overflow-y:auto;display:flex;flex-direction:column-reverse;background:#e2e9f1}
.chat>div{padding:10px;display:flex;flex-direction:column;gap:8px}
.b{max-width:80%;padding:8px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;font-size:14px}
.b.out{background:#fff;align-self:flex-start}.b.in{background:#d4e6ff;align-self:flex-end}
.k{font-size:11px;color:#0068ff;font-weight:600}.w{font-size:10px;color:#777;text-align:right}
.send,.follow{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd}.send input{flex:1}
.new{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}.muted{color:#777}.fault{color:#b00020;font-weight:600}
input,select,button{font-size:14px;padding:6px 8px;border-radius:8px;border:1px solid #bbb}
button{background:#0068ff;color:#fff;border:0}
"""


def _page(title: str, content: str, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )


def _html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8"), "text/html; charset=utf-8")


class _Headers(dict):
    """Request headers with lower-cased names; ``get`` is case-insensitive."""

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name: str) -> Any:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeZalo/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after this

    server: FakeZaloServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write("fake-zalo: " + (format % args) + "\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.verbose:
            super().log_request(code, size)

    def parse_request(self) -> bool:
        """Like the stdlib's, with a plain header parser instead of the (slow) email parser."""
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3:
            self.send_error(400, "Bad request line")
            return False
        command, path, version = words
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(505, "HTTP version not supported")
            return False
        self.command, self.path, self.request_version = command, path, version
        headers = _Headers()
        while True:
            line = self.rfile.readline(65537)
            if len(line) > 65536 or len(headers) > 100:
                self.send_error(431, "Request header fields too large")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if not sep:
                self.send_error(400, "Bad header line")
                return False
            headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" if version == "HTTP/1.1" else connection != "keep-alive"
        if version == "HTTP/1.1" and headers.get("expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    do_PUT = do_DELETE = do_POST

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._write(Response(400, b'{"error":"bad request body"}'), close=True)
            return
        split = urlsplit(self.path)
        request = Request(self.command, split.path, parse_qs(split.query), self.headers, body)
        result = self.server.fake.handle(request)
        if result is DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert isinstance(result, Response)
        self._write(result)

    def _write(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
        # One write for headers and body (no Nagle/delayed-ACK stall on keep-alive connections).
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(response.body)
        self.flush_headers()


class FakeZaloServer(ThreadingHTTPServer):
    """HTTP/1.1 keep-alive server around a :class:`FakeZalo`; ``stop()`` shuts everything down."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeZalo, verbose: bool = False) -> None:
        self.fake = fake
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn), slow without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    def serve_in_thread(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="fake-zalo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if started by ``serve_in_thread``), then :meth:`server_close`. Idempotent."""
        self.fake._stop.set()
        self.fake.release_answers()  # wakes held answers
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def server_close(self) -> None:
        """Close the listening socket and open keep-alive connections, stop the webhook threads."""
        self.fake._stop.set()
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.fake._dispatcher.stop()
        super().server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def build_fake(
    apps: list[str | dict[str, Any]] | None = None, faults: dict[str, Any] | None = None, **options: Any
) -> FakeZalo:
    """A :class:`FakeZalo` with ``apps`` (``"a:s:oa:k:rt"`` strings or dicts) and option overrides."""
    valid = {f.name for f in fields(FakeOptions)}
    unknown = set(options) - valid
    if unknown:
        raise TypeError(f"unknown fake options: {sorted(unknown)}")
    fake = FakeZalo(FakeOptions(**options))
    for app in apps or []:
        spec = parse_app_spec(app) if isinstance(app, str) else dict(app)
        fake.register(**spec)
    if faults:
        fake.set_faults(**faults)
    return fake


def run_in_thread(
    port: int = 0,
    host: str = "127.0.0.1",
    apps: list[str | dict[str, Any]] | None = None,
    faults: dict[str, Any] | None = None,
    verbose: bool = False,
    **options: Any,
) -> tuple[FakeZaloServer, str]:
    """Start the fake on ``host:port`` (0 = a free port) in a daemon thread → ``(server, base_url)``.

    ``server.fake`` is the :class:`FakeZalo` (call its methods directly in tests); ``server.stop()``
    shuts down cleanly. Keywords are :class:`FakeOptions` fields.
    """
    fake = build_fake(apps, faults, **options)
    server = FakeZaloServer((host, port), fake, verbose=verbose)
    server.serve_in_thread()
    return server, server.base_url


def _load_config(path: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    return (
        list(config.get("apps", [])),
        dict(config.get("options", {})),
        dict(config.get("faults", {})),
        dict(config.get("templates", {})),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zalo.fake", description="Local fake Zalo (OAuth, OpenAPI, ZNS).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APP_ID:APP_SECRET:OA_ID:OA_SECRET_KEY:REFRESH_TOKEN",
        help="register an OA (repeatable); without --app/--config a demo OA is registered",
    )
    parser.add_argument(
        "--config", help='JSON file: {"apps":[{...}], "options":{...}, "faults":{...}, "templates":{...}}'
    )
    parser.add_argument("--portal-webhook-url", help="default webhook URL for every OA; {oa_id} is replaced")
    parser.add_argument("--token-lifetime", type=float)
    parser.add_argument("--refresh-token-lifetime", type=float)
    parser.add_argument("--old-token-grace", type=float)
    parser.add_argument("--reused-refresh-answer", choices=("error", "empty"))
    parser.add_argument("--cs-window-days", type=float)
    parser.add_argument("--cs-reply-quota", type=int)
    parser.add_argument("--zns-daily-quota", type=int)
    parser.add_argument("--rate-limit-per-minute", type=int)
    parser.add_argument("--require-appsecret-proof", action="store_true", default=None)
    parser.add_argument("--article-processing", type=float)
    parser.add_argument("--delivery-delay", type=float)
    parser.add_argument("--seen-delay", type=float, help="negative: never send user_seen_message")
    parser.add_argument("--webhook-retries", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--night-ban", choices=("off", "on", "clock"))
    parser.add_argument("--rate-limit-next", type=int)
    parser.add_argument("--rate-limit-ratio", type=float)
    parser.add_argument("--http-error-next", type=int)
    parser.add_argument("--http-error-status", type=int)
    parser.add_argument("--drop-next", type=int)
    parser.add_argument("--drop-after-processing", action="store_true", default=None)
    parser.add_argument("--slow-seconds", type=float)
    parser.add_argument("--slow-next", type=int)
    parser.add_argument("--quota-exhausted", action="store_true", default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    apps: list[str | dict[str, Any]] = []
    options: dict[str, Any] = {}
    faults: dict[str, Any] = {}
    templates: dict[str, Any] = {}
    if args.config:
        config_apps, options, faults, templates = _load_config(args.config)
        apps.extend(config_apps)
    try:
        apps.extend(parse_app_spec(spec) for spec in args.app)
    except ValueError as exc:
        parser.error(str(exc))
    if not apps:
        apps.append(DEFAULT_DEMO_APP)
    option_flags = {
        "webhook_url": args.portal_webhook_url,
        "token_lifetime": args.token_lifetime,
        "refresh_token_lifetime": args.refresh_token_lifetime,
        "old_token_grace": args.old_token_grace,
        "reused_refresh_answer": args.reused_refresh_answer,
        "cs_window": args.cs_window_days * 86400 if args.cs_window_days is not None else None,
        "cs_reply_quota": args.cs_reply_quota,
        "zns_daily_quota": args.zns_daily_quota,
        "rate_limit_per_minute": args.rate_limit_per_minute,
        "require_appsecret_proof": args.require_appsecret_proof,
        "article_processing": args.article_processing,
        "delivery_delay": args.delivery_delay,
        "seen_delay": args.seen_delay,
        "webhook_retries": args.webhook_retries,
        "seed": args.seed,
    }
    options.update({k: v for k, v in option_flags.items() if v is not None})
    fault_flags = {
        "night_ban": args.night_ban,
        "rate_limit_next": args.rate_limit_next,
        "rate_limit_ratio": args.rate_limit_ratio,
        "http_error_next": args.http_error_next,
        "http_error_status": args.http_error_status,
        "drop_next": args.drop_next,
        "drop_after_processing": args.drop_after_processing,
        "slow_seconds": args.slow_seconds,
        "slow_next": args.slow_next,
        "quota_exhausted": args.quota_exhausted,
    }
    faults.update({k: v for k, v in fault_flags.items() if v is not None})
    try:
        fake = build_fake(apps, faults, **options)
    except (TypeError, ValueError, KeyError) as exc:
        parser.error(f"bad configuration: {exc}")
    fake.templates.update({str(k): dict(v) for k, v in templates.items()})
    server = FakeZaloServer((args.host, args.port), fake, verbose=args.verbose)
    print(f"Fake Zalo on {server.base_url} (OAuth, OpenAPI and ZNS base URL); page: {server.base_url}/_fake/")
    for oa in fake.oas.values():
        print(f"  OA {oa.oa_id} of app {oa.app_id}: webhook {fake._webhook_url(oa) or '(none)'}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
