"""POST /zalo/webhook/ on each province's domain: verify, store, answer 200, process later.

Anyone can post here, so the order of the checks is what an unauthenticated sender can make us do:
1. the size, from CONTENT_LENGTH and then a bounded read (413 above ZALO_WEBHOOK_MAX_BODY_BYTES) —
   the body is never read whole before this;
2. the signature, SHA-256 of ``app_id + raw_body + timestamp + oa_secret_key`` (docs/zalo-api.md),
   computed from the OA's own app id and the ``"timestamp"`` value found in the raw bytes — the JSON
   is not parsed until the signature matches, so a forged body costs one hash, never a parse;
3. the parsed body must carry that same timestamp and the OA's app id;
4. freshness: an event older than ZALO_WEBHOOK_MAX_AGE_SECONDS is refused and not stored (a
   captured, correctly signed event cannot be replayed later), besides the msg_id deduplication.
   Events dated in the future are accepted: only Zalo can sign them, and its clock is its own.
"""

import hmac
import json
import logging
import re
import string
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import accounts
from .inbox import dedupe_key
from .models import InboundEvent
from .signature import SIGNATURE_HEADER, event_signature

logger = logging.getLogger(__name__)

_HEX = frozenset(string.hexdigits.lower())
# "timestamp": "1700000000000" (or a bare number) as written in the raw body; a string value
# containing the word has its quotes escaped and cannot match.
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*("?)(\d{1,20})\1')
_MAX_CANDIDATES = 4


def _error(code, message, status):
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _too_large():
    return _error("too_large", _("Nội dung sự kiện quá lớn."), 413)


def _bad_signature():
    return _error("invalid_signature", _("Chữ ký sự kiện không hợp lệ."), 401)


def _read_body(request, limit):
    """The raw body, or None when it is longer than `limit` (never more than limit + 1 bytes are read)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if declared > limit:
        return None
    raw = request.read(limit + 1)
    return None if len(raw) > limit else raw


def _given_mac(header_value):
    scheme, sep, given = (header_value or "").strip().partition("=")
    given = given.strip().lower()
    if not sep or scheme.strip().lower() != "mac" or len(given) != 64 or not set(given) <= _HEX:
        return None
    return given


def _signed_timestamp(raw, app_id, oa_secret_key, given):
    """The timestamp under which `raw` was signed, or None: no JSON parsing, a few hashes at most."""
    if not oa_secret_key:
        return None
    for match in list(_TIMESTAMP.finditer(raw))[:_MAX_CANDIDATES]:
        timestamp = match.group(2).decode("ascii")
        expected = event_signature(app_id, raw, timestamp, oa_secret_key)
        if hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
            return timestamp
    return None


@csrf_exempt
@require_POST
def webhook(request):
    account = accounts.current_account()
    if account is None:
        return _error("not_configured", _("Tỉnh chưa cấu hình Zalo OA."), 404)
    raw = _read_body(request, settings.ZALO_WEBHOOK_MAX_BODY_BYTES)
    if raw is None:
        return _too_large()
    given = _given_mac(request.headers.get(SIGNATURE_HEADER))
    timestamp = _signed_timestamp(raw, account.app_id, account.oa_secret_key, given) if given else None
    if timestamp is None:
        return _bad_signature()
    try:
        payload = json.loads(raw)  # signed by Zalo from here on
    except (ValueError, RecursionError):
        return _error("bad_event", _("Sự kiện không phải JSON hợp lệ."), 400)
    if (
        not isinstance(payload, dict)
        or str(payload.get("app_id", "")) != account.app_id
        or str(payload.get("timestamp", "")) != timestamp
    ):
        return _bad_signature()
    age = time.time() - int(timestamp) / 1000
    if age > settings.ZALO_WEBHOOK_MAX_AGE_SECONDS:
        logger.warning("stale Zalo event refused: %s, %.0f s old", payload.get("event_name"), age)
        return _error("stale_event", _("Sự kiện đã quá cũ, không được nhận."), 403)
    key = dedupe_key(payload)
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                dedupe_key=key, event_name=str(payload.get("event_name", ""))[:60], payload=payload
            )
    except IntegrityError:
        return JsonResponse({"ok": True, "duplicate": True})  # a replay: stored once, processed once
    from .tasks import process_inbound_event

    transaction.on_commit(lambda: process_inbound_event.delay(event.pk))
    return JsonResponse({"ok": True})
