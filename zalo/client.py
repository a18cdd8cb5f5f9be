"""A thin, synchronous Zalo client over httpx (docs/zalo-api.md). Every Zalo path lives here.

The three base URLs are settings passed in by the caller (real hosts: ``https://oauth.zaloapp.com``,
``https://openapi.zalo.me``, ``https://business.openapi.zalo.me``; in development all three point at
the local fake, :mod:`fakezalo`). No Django import, no global state, no logging of tokens or
secrets: log lines carry the path and Zalo's error code only.

Every call either returns a value or raises a :class:`zalo.errors.ZaloError` subclass that tells the
caller what to do (retry later, reschedule to 06:00, refresh the token, switch channel, give up).

Caution about retries: a timeout or a dropped connection does not prove that Zalo did not accept the
message. Callers that retry must use their own idempotency key (``tracking_id`` for ZNS) and expect
that a retried send may be a duplicate.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import (
    RATE_LIMIT,
    OAuthRejected,
    Permanent,
    RateLimited,
    TransportFailure,
    ZaloError,
    error_for,
)
from .signature import appsecret_proof

logger = logging.getLogger("zalo.client")

# Hosts of the real platform (the defaults a settings module may use).
REAL_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
REAL_OPENAPI_BASE_URL = "https://openapi.zalo.me"
REAL_BUSINESS_BASE_URL = "https://business.openapi.zalo.me"
# An OA's public page, where a citizen follows it: a page for people, not an API, the same everywhere.
OA_FOLLOW_PAGE = "https://zalo.me/{oa_id}"


def oa_follow_url(oa_id: str) -> str:
    return OA_FOLLOW_PAGE.format(oa_id=oa_id)


# oauth host
OAUTH_TOKEN_PATH = "/v4/oa/access_token"  # noqa: S105 -- a URL path, not a secret
OAUTH_PERMISSION_PATH = "/v4/oa/permission"
TEMPLATE_INFO_PATH = "/template/info/v2"  # business host
# openapi host
CS_MESSAGE_PATH = "/v3.0/oa/message/cs"
TEMPLATE_MESSAGE_PATH = "/v3.0/oa/message/template"
MESSAGE_QUOTA_PATH = "/v3.0/oa/quota/message"
FOLLOWERS_PATH = "/v3.0/oa/user/getlist"
BROADCAST_PATH = "/v2.0/oa/message"
ARTICLE_CREATE_PATH = "/v2.0/article/create"
ARTICLE_VERIFY_PATH = "/v2.0/article/verify"
CONVERSATION_PATH = "/v2.0/oa/conversation"
# business host (ZNS)
ZNS_MESSAGE_PATH = "/message/template"
ZNS_QUOTA_PATH = "/message/quota"

ARTICLE_PROCESSING = -214  # /v2.0/article/verify: the article is still being processed [2nd]
MAX_TRACKING_ID = 48
MAX_FOLLOWERS_PAGE = 50
MAX_CONVERSATION_PAGE = 10

_ZNS_PHONE = re.compile(r"84\d{9,10}")


@dataclass(frozen=True)
class TokenPair:
    """An OA access token and its single-use refresh token (never shown in repr)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True)
class ZnsResult:
    msg_id: str
    sent_time: str
    daily_quota: int | None
    remaining_quota: int | None


def normalise_vn_phone(raw: str) -> str:
    """``"0912 345 678"``, ``"+84912345678"`` or ``"84912345678"`` → ``"84912345678"``.

    Raises :class:`Permanent` when the result is not 84 followed by 9–10 digits.
    """
    digits = re.sub(r"[\s.\-()]", "", str(raw))
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    _check_phone(digits)
    return digits


def _check_phone(phone: object) -> None:
    if not isinstance(phone, str) or not _ZNS_PHONE.fullmatch(phone) or not phone.isascii():
        raise Permanent(None, "ZNS phone must be normalised: digits only, starting with 84, 11 to 12 digits in all")


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _error_code(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -1 if value else 0


class ZaloClient:
    """Calls the three Zalo hosts. Thread-safe (one pooled ``httpx.Client``); close it when done.

    ``transport`` lets tests inject ``httpx.MockTransport``. ``app_secret``, when given, adds the
    ``appsecret_proof`` header to every API call.
    """

    def __init__(
        self,
        oauth_base_url: str,
        openapi_base_url: str,
        business_base_url: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        *,
        app_secret: str | None = None,
        max_connections: int = 50,
    ) -> None:
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.openapi_base_url = openapi_base_url.rstrip("/")
        self.business_base_url = business_base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout)
        self._app_secret = app_secret
        self._http = httpx.Client(
            transport=transport,
            timeout=self._timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": "mot-cua-zalo/1.0"},
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ZaloClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        bases = (self.oauth_base_url, self.openapi_base_url, self.business_base_url)
        return "ZaloClient(oauth={!r}, openapi={!r}, business={!r})".format(*bases)

    # -- OAuth v4 --------------------------------------------------------------------------------

    def authorization_url(self, app_id: str, redirect_uri: str, code_challenge: str, state: str) -> str:
        """Where to send an OA admin's browser to grant the app access to the OA (PKCE, S256)."""
        query = urlencode(
            {"app_id": app_id, "redirect_uri": redirect_uri, "code_challenge": code_challenge, "state": state}
        )
        return f"{self.oauth_base_url}{OAUTH_PERMISSION_PATH}?{query}"

    def refresh_access_token(self, app_id: str, app_secret: str, refresh_token: str) -> TokenPair:
        """Trade the single-use refresh token for a new pair. Store the new pair before using it.

        A :class:`RetryLater` here is dangerous: Zalo may have consumed the refresh token already.
        :class:`OAuthRejected` means the chain is broken and a person must re-authorise the OA.
        """
        form = {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}
        return self._token_request(app_secret, form, "refresh")

    def exchange_code(self, app_id: str, app_secret: str, code: str, code_verifier: str) -> TokenPair:
        """First grant: the ``code`` from the OAuth callback plus the PKCE verifier → a token pair."""
        form = {"code": code, "app_id": app_id, "grant_type": "authorization_code", "code_verifier": code_verifier}
        return self._token_request(app_secret, form, "authorization_code")

    def _token_request(self, app_secret: str, form: dict[str, str], what: str) -> TokenPair:
        url = self.oauth_base_url + OAUTH_TOKEN_PATH
        response = self._transport_call("POST", url, OAUTH_TOKEN_PATH, data=form, headers={"secret_key": app_secret})
        if not response.content.strip():
            # Reported for an already-consumed refresh token [2nd]: HTTP 200 with an empty body.
            logger.warning("Zalo OAuth %s: empty answer", what)
            raise OAuthRejected(None, f"OAuth {what}: empty answer (refresh token probably already used)")
        body = self._json(response, OAUTH_TOKEN_PATH)
        access_token = body.get("access_token")
        refresh_token = body.get("refresh_token")
        if isinstance(access_token, str) and access_token and isinstance(refresh_token, str) and refresh_token:
            return TokenPair(access_token, refresh_token, _int_or_none(body.get("expires_in")) or 0)
        code = _error_code(body.get("error"))
        message = str(body.get("error_description") or body.get("error_name") or body.get("message") or "no token")
        logger.warning("Zalo OAuth %s refused: error=%s", what, code)
        if code == RATE_LIMIT:
            raise RateLimited(code, message)
        raise OAuthRejected(code or None, f"OAuth {what}: {message}")

    # -- messages to one citizen -----------------------------------------------------------------

    def send_cs_message(self, access_token: str, user_id: str, text: str, buttons: list | None = None) -> str:
        """Customer-service text to a user who interacted within the window → ``message_id``.

        ``buttons`` (at most 5 of ``{"title", "type", "payload"}``): reply buttons under the text, as a
        template attachment [?]; a tapped ``oa.query.*`` button comes back as the user's text (its payload)."""
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["attachment"] = {"type": "template", "payload": {"buttons": list(buttons)[:5]}}
        body = {"recipient": {"user_id": str(user_id)}, "message": message}
        data = self._post(self.openapi_base_url, CS_MESSAGE_PATH, access_token, body)
        return self._message_id(data, CS_MESSAGE_PATH)

    def send_template_message(
        self, access_token: str, user_id: str, template_id: str, template_data: dict[str, Any]
    ) -> str:
        """Approved template to a follower by Zalo user id → ``message_id``."""
        body = {"user_id": str(user_id), "template_id": str(template_id), "template_data": template_data}
        data = self._post(self.openapi_base_url, TEMPLATE_MESSAGE_PATH, access_token, body)
        return self._message_id(data, TEMPLATE_MESSAGE_PATH)

    def send_zns(
        self,
        access_token: str,
        phone: str,
        template_id: str,
        template_data: dict[str, Any],
        tracking_id: str,
        development: bool = False,
    ) -> ZnsResult:
        """ZNS template by phone (already normalised ``84…``); ``tracking_id`` is our idempotency key."""
        _check_phone(phone)
        if not isinstance(tracking_id, str) or not tracking_id or len(tracking_id) > MAX_TRACKING_ID:
            raise Permanent(None, f"ZNS tracking_id must be 1 to {MAX_TRACKING_ID} characters")
        if not isinstance(template_id, str | int) or not str(template_id):
            raise Permanent(None, "ZNS template_id is required")
        if not isinstance(template_data, dict):
            raise Permanent(None, "ZNS template_data must be an object")
        body: dict[str, Any] = {
            "phone": phone,
            "template_id": str(template_id),
            "template_data": template_data,
            "tracking_id": tracking_id,
        }
        if development:
            body["mode"] = "development"
        data = self._post(self.business_base_url, ZNS_MESSAGE_PATH, access_token, body)
        msg_id = data.get("msg_id")
        if msg_id in (None, ""):
            raise TransportFailure(None, f"{ZNS_MESSAGE_PATH}: success without msg_id")
        quota = data.get("quota") if isinstance(data.get("quota"), dict) else {}
        return ZnsResult(
            msg_id=str(msg_id),
            sent_time=str(data.get("sent_time", "")),
            daily_quota=_int_or_none(quota.get("dailyQuota")),
            remaining_quota=_int_or_none(quota.get("remainingQuota")),
        )

    def zns_quota(self, access_token: str) -> dict[str, Any]:
        """ZNS daily quota of the OA: ``{"dailyQuota": …, "remainingQuota": …}`` [2nd]."""
        return self._get(self.business_base_url, ZNS_QUOTA_PATH, access_token, None)

    def message_quota(self, access_token: str, user_id: str) -> dict[str, Any]:
        """Last interaction and remaining CS quota for one user [2nd]; the ``data`` object as returned."""
        return self._post(self.openapi_base_url, MESSAGE_QUOTA_PATH, access_token, {"user_id": str(user_id)})

    def template_info(self, access_token: str, template_id: str) -> dict[str, Any]:
        """An approved ZNS template as Zalo holds it: ``templateId``, ``status`` and ``listParams``
        (name, require, maxLength, …). Checked when a province registers a template."""
        response = self._transport_call(
            "GET",
            self.business_base_url + TEMPLATE_INFO_PATH,
            TEMPLATE_INFO_PATH,
            params={"template_id": str(template_id)},
            headers=self._auth_headers(access_token),
        )
        return self._api_result(response, TEMPLATE_INFO_PATH)

    def conversation(
        self, access_token: str, user_id: str, offset: int = 0, count: int = MAX_CONVERSATION_PAGE
    ) -> list[dict[str, Any]]:
        """The latest messages between the OA and one user, newest first [2nd]: each with
        ``message_id``, ``src`` (who sent it), ``time`` (ms), ``type`` and ``message`` (the text).

        How to learn, after a lost answer, whether Zalo accepted a CS or template message."""
        if not 1 <= count <= MAX_CONVERSATION_PAGE or offset < 0:
            raise Permanent(None, f"conversation page: 0 ≤ offset and 1 ≤ count ≤ {MAX_CONVERSATION_PAGE}")
        params = {"user_id": str(user_id), "offset": offset, "count": count}
        query = {"data": json.dumps(params, separators=(",", ":"))}
        url = self.openapi_base_url + CONVERSATION_PATH
        headers = self._auth_headers(access_token)
        response = self._transport_call("GET", url, CONVERSATION_PATH, params=query, headers=headers)
        body = self._json(response, CONVERSATION_PATH)
        self._api_result(response, CONVERSATION_PATH)  # raises on a Zalo error
        data = body.get("data")
        if not isinstance(data, list):
            raise TransportFailure(None, f"{CONVERSATION_PATH}: success without a message list")
        return [item for item in data if isinstance(item, dict)]

    # -- followers and broadcast -----------------------------------------------------------------

    def list_followers(
        self, access_token: str, offset: int = 0, count: int = MAX_FOLLOWERS_PAGE, is_follower: bool = True
    ) -> dict[str, Any]:
        """One page of followers: ``{"total", "count", "offset", "users": [{"user_id"}]}``; count ≤ 50."""
        if not 1 <= count <= MAX_FOLLOWERS_PAGE or offset < 0:
            raise Permanent(None, f"followers page: 0 ≤ offset and 1 ≤ count ≤ {MAX_FOLLOWERS_PAGE}")
        params = {"offset": offset, "count": count, "is_follower": is_follower}
        return self._get(self.openapi_base_url, FOLLOWERS_PATH, access_token, params)

    def create_article(
        self,
        access_token: str,
        title: str,
        body_text: str,
        *,
        author: str = "",
        description: str = "",
        cover_photo_url: str = "",
        status: str = "show",
        comment: str = "show",
    ) -> str:
        """Publish a normal article (asynchronous on Zalo's side) → the processing ``token``."""
        article: dict[str, Any] = {
            "type": "normal",
            "title": title,
            "author": author,
            "cover": {"cover_type": "photo", "photo_url": cover_photo_url, "status": "show"},
            "description": description,
            "body": [{"type": "text", "content": body_text}],
            "status": status,
            "comment": comment,
        }
        data = self._post(self.openapi_base_url, ARTICLE_CREATE_PATH, access_token, article)
        token = data.get("token")
        if token in (None, ""):
            raise TransportFailure(None, f"{ARTICLE_CREATE_PATH}: success without token")
        return str(token)

    def verify_article(self, access_token: str, token: str) -> str | None:
        """The article id for a ``create_article`` token, or None while Zalo is still processing it."""
        try:
            data = self._post(self.openapi_base_url, ARTICLE_VERIFY_PATH, access_token, {"token": token})
        except Permanent as exc:
            if exc.code == ARTICLE_PROCESSING:
                return None
            raise
        article_id = data.get("id") or data.get("article_id")
        return str(article_id) if article_id not in (None, "") else None

    def broadcast_article(self, access_token: str, attachment_id: str, target: dict[str, Any] | None = None) -> str:
        """Broadcast an article to the OA's followers (``target``: cities/ages/gender/platform) → message id."""
        body = {
            "recipient": {"target": dict(target or {})},
            "message": {
                "attachment": {
                    "type": "template",
                    "payload": {
                        "template_type": "media",
                        "elements": [{"media_type": "article", "attachment_id": str(attachment_id)}],
                    },
                }
            },
        }
        data = self._post(self.openapi_base_url, BROADCAST_PATH, access_token, body)
        return self._message_id(data, BROADCAST_PATH)

    # -- plumbing --------------------------------------------------------------------------------

    def _auth_headers(self, access_token: str) -> dict[str, str]:
        headers = {"access_token": access_token}
        if self._app_secret:
            headers["appsecret_proof"] = appsecret_proof(access_token, self._app_secret)
        return headers

    def _post(self, base: str, path: str, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = self._auth_headers(access_token)
        headers["Content-Type"] = "application/json"
        response = self._transport_call("POST", base + path, path, content=content, headers=headers)
        return self._api_result(response, path)

    def _get(self, base: str, path: str, access_token: str, params: dict[str, Any] | None) -> dict[str, Any]:
        query = {"data": json.dumps(params, separators=(",", ":"))} if params is not None else None
        headers = self._auth_headers(access_token)
        response = self._transport_call("GET", base + path, path, params=query, headers=headers)
        return self._api_result(response, path)

    def _transport_call(self, method: str, url: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.TimeoutException as exc:
            logger.warning("Zalo %s %s: timeout (%s)", method, path, type(exc).__name__)
            raise TransportFailure(None, f"{path}: timeout ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            logger.warning("Zalo %s %s: transport failure (%s)", method, path, type(exc).__name__)
            raise TransportFailure(None, f"{path}: transport failure ({type(exc).__name__})") from exc
        if response.status_code != 200:
            logger.warning("Zalo %s %s: HTTP %s", method, path, response.status_code)
            retry_after = _int_or_none(response.headers.get("Retry-After"))
            raise TransportFailure(
                None, f"{path}: HTTP {response.status_code}", http_status=response.status_code, retry_after=retry_after
            )
        return response

    @staticmethod
    def _json(response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise TransportFailure(None, f"{path}: answer is not JSON", http_status=response.status_code) from None
        if not isinstance(body, dict):
            raise TransportFailure(None, f"{path}: answer is not a JSON object", http_status=response.status_code)
        return body

    def _api_result(self, response: httpx.Response, path: str) -> dict[str, Any]:
        body = self._json(response, path)
        code = _error_code(body.get("error", 0))
        if code != 0:
            logger.warning("Zalo %s: error=%s", path, code)
            error: ZaloError = error_for(code, str(body.get("message", "")))
            raise error
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _message_id(data: dict[str, Any], path: str) -> str:
        message_id = data.get("message_id", data.get("msg_id"))
        if message_id in (None, ""):
            raise TransportFailure(None, f"{path}: success without message_id")
        return str(message_id)
