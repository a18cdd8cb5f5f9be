"""POST /zalo/webhook/ on each province's domain: verify, store, answer 200, process later."""

import json

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import accounts
from .inbox import dedupe_key
from .models import InboundEvent
from .signature import verify_event_signature


def _error(code, message, status):
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


@csrf_exempt
@require_POST
def webhook(request):
    account = accounts.current_account()
    if account is None:
        return _error("not_configured", _("Tỉnh chưa cấu hình Zalo OA."), 404)
    raw = request.body  # the exact bytes: the signature covers them
    if not verify_event_signature(raw, request.headers.get("X-ZEvent-Signature"), account.oa_secret_key):
        return _error("invalid_signature", _("Chữ ký sự kiện không hợp lệ."), 401)
    payload = json.loads(raw)
    if str(payload.get("app_id", "")) != account.app_id:
        return _error("invalid_signature", _("Chữ ký sự kiện không hợp lệ."), 401)
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
