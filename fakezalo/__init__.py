"""Local fake Zalo: the three Zalo hosts on one localhost port, in memory, with fault switches.

A development tool for tests and ``make run``: product code never imports it (a test checks).

Run it::

    python -m fakezalo --port 8900 --portal-webhook-url 'http://localhost:8000/zalo/webhook/{oa_id}/' \\
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
  ``POST /v2.0/article/upload_image`` multipart ``file`` (png/jpg/gif/webp ≤ 1 MB) → ``data.url`` (served by the fake).
business host (ZNS)
  ``POST /message/template``          ZNS by phone → ``data.{msg_id, sent_time, quota{dailyQuota,remainingQuota}}``.
  ``GET  /message/quota``             → ``data.{dailyQuota, remainingQuota}``.
  ``GET  /template/info/v2``          ``?template_id=`` → ``data.{templateId, status, listParams[{name, maxLength…}]}``.

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
  retried ``webhook_retries`` times (1 s, 2 s, …; header ``num_retry``) on a non-2xx answer. Events:
  ``follow``/``unfollow``, ``user_send_text``, ``user_send_image``/``user_send_file``
  (``message.attachments[{type, payload{url, …}}]``, the URL served by the fake at
  ``/_fake/media/<id>/<name>``), and after every accepted CS/template/ZNS message ``user_received_message``
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
                                 ``media_error_next`` N: the next N downloads of ``/_fake/media/`` answer
                                 ``http_error_status`` (Zalo's CDN failing; the portal retries).
``POST /_fake/clock``            ``{"advance": seconds}`` moves the fake's clock forward (token expiry, CS window,
                                 daily quota) — ``GET`` shows it.
``POST /_fake/follow``           ``{"oa_id"?, "user_id", "name"?}`` citizen follows (``follow`` webhook).
``POST /_fake/unfollow``         ``{"oa_id"?, "user_id"}`` (``unfollow`` webhook).
``POST /_fake/send_text``        ``{"oa_id"?, "user_id", "text", "sync"?}`` citizen writes to the OA: records an
                                 interaction and posts a signed ``user_send_text`` (``sync`` true: posted before
                                 answering, the answer carries the portal's HTTP status).
``POST /_fake/send_image``       ``{"oa_id"?, "user_id", "content_base64"?, "content_type"?, "name"?, "sync"?}`` citizen
                                 sends a photo (none given: a sample PNG) → signed ``user_send_image``.
``POST /_fake/send_file``        ``{"oa_id"?, "user_id", "name", "content_base64", "content_type"?, "sync"?}`` →
                                 signed ``user_send_file`` (url, name, size, checksum).
``GET  /_fake/media/<id>/<name>`` the bytes of a sent or uploaded image/file (non-images as a download).
``POST /_fake/interact``         ``{"oa_id"?, "user_id" | "user_ids": [...], "seconds_ago"?}`` sets the last
                                 interaction, no webhook.
``GET  /_fake/users``            ``?oa_id=`` citizens: follower flag, last interaction.
``POST /_fake/templates``        ``{template_id: {"params": [...], "text": "Xin chào <name>",
                                 "max_length": {name: n}}}`` approved templates (over a max_length: −112);
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
Modules
=======

``protocol``  paths, request/response records, error answers, signing; ``records`` options and state records;
``state``     :class:`FakeZalo`, the in-memory platform (apps, OAs, citizens, tokens, messages, templates,
              articles); ``media`` images and files (citizens' attachments, cover uploads, served at
              ``/_fake/media/``); ``endpoints`` the Zalo API; ``faults`` the fault switches; ``webhooks`` signed
              events to the portal with retries; ``control`` the ``/_fake/`` API; ``phone`` the phone page;
``server``    the HTTP server, :func:`run_in_thread` and ``python -m fakezalo``.
"""

from .faults import Faults
from .protocol import (
    BUSINESS_PATHS,
    DEFAULT_DEMO_APP,
    HOLDABLE_PATHS,
    P_ARTICLE_CREATE,
    P_ARTICLE_VERIFY,
    P_BROADCAST,
    P_CONVERSATION,
    P_CS,
    P_FOLLOWERS,
    P_PERMISSION,
    P_QUOTA,
    P_TEMPLATE,
    P_TOKEN,
    P_ZNS,
    P_ZNS_QUOTA,
    ZALO_PATHS,
    Request,
    Response,
    parse_app_spec,
)
from .records import OA, Citizen, FakeOptions
from .server import FakeZaloServer, main, run_in_thread
from .state import FakeZalo, build_fake

__all__ = [
    "BUSINESS_PATHS",
    "DEFAULT_DEMO_APP",
    "HOLDABLE_PATHS",
    "OA",
    "P_ARTICLE_CREATE",
    "P_ARTICLE_VERIFY",
    "P_BROADCAST",
    "P_CONVERSATION",
    "P_CS",
    "P_FOLLOWERS",
    "P_PERMISSION",
    "P_QUOTA",
    "P_TEMPLATE",
    "P_TOKEN",
    "P_ZNS",
    "P_ZNS_QUOTA",
    "ZALO_PATHS",
    "Citizen",
    "FakeOptions",
    "FakeZalo",
    "FakeZaloServer",
    "Faults",
    "Request",
    "Response",
    "build_fake",
    "main",
    "parse_app_spec",
    "run_in_thread",
]
