"""Webhook events, after they were verified and stored: followers, the chat bot, delivery receipts."""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from notifications import delivery

from . import accounts, bot
from .models import CitizenQuestion, DossierLink, Follower, FollowerWard, InboundEvent

logger = logging.getLogger(__name__)


def event_time(payload) -> datetime:
    try:
        return datetime.fromtimestamp(int(payload.get("timestamp")) / 1000, tz=UTC)
    except (TypeError, ValueError):
        return timezone.now()


def dedupe_key(payload: dict) -> str:
    """Zalo sends no nonce: the message id where there is one, else (event, time, user)."""
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    name = str(payload.get("event_name", ""))
    if message.get("msg_id"):
        return f"{name}:{message['msg_id']}"[:200]
    if message.get("msg_ids"):
        return f"{name}:{','.join(map(str, message['msg_ids']))}"[:200]
    user = (payload.get("follower") or payload.get("sender") or {}).get("id", "")
    return f"{name}:{payload.get('timestamp', '')}:{user}"[:200]


def _follower(user_id, when, **changes):
    follower, _created = Follower.objects.get_or_create(user_id=user_id)
    for field, value in changes.items():
        setattr(follower, field, value)
    if when and (follower.last_interaction_at is None or when > follower.last_interaction_at):
        follower.last_interaction_at = when
    follower.save()
    return follower


def on_follow(payload):
    when = event_time(payload)
    _follower(payload["follower"]["id"], when, is_following=True, followed_at=when)
    return "follower_added"


def on_unfollow(payload):
    when = event_time(payload)
    Follower.objects.update_or_create(
        user_id=payload["follower"]["id"], defaults={"is_following": False, "unfollowed_at": when}
    )
    return "follower_removed"


def on_text(payload):
    when = event_time(payload)
    user_id = payload["sender"]["id"]
    text = (payload.get("message") or {}).get("text", "")
    follower = _follower(user_id, when)
    reply = bot.answer(user_id, text)
    if reply.dossier is not None:
        link_dossier(reply.dossier, follower)
    if reply.ward is not None:
        FollowerWard.objects.get_or_create(
            follower=follower,
            ward_code=reply.ward[0],
            source=FollowerWard.Source.CHAT,
            defaults={"ward_name": reply.ward[1]},
        )
    if reply.clear_wards:
        follower.wards.filter(source=FollowerWard.Source.CHAT).delete()
    if reply.is_question:
        CitizenQuestion.objects.create(
            follower=follower, text=text, msg_id=(payload.get("message") or {}).get("msg_id", ""), received_at=when
        )
    transaction.on_commit(lambda: send_reply(user_id, reply.text))
    return "question" if reply.is_question else ("linked" if reply.dossier else "answered")


def link_dossier(dossier, follower):
    """Future messages about this dossier go to this Zalo user; its ward joins their warnings."""
    DossierLink.objects.get_or_create(dossier=dossier, follower=follower)
    if dossier.applicant_ward_code:
        from .wards import ward_name

        FollowerWard.objects.get_or_create(
            follower=follower,
            ward_code=dossier.applicant_ward_code,
            source=FollowerWard.Source.DOSSIER,
            defaults={"ward_name": ward_name(dossier.applicant_ward_code)},
        )


def on_received(payload):
    from broadcasts.delivery import record_receipt

    message = payload.get("message") or {}
    when = event_time(payload)
    delivery.record_delivery(
        tracking_id=message.get("tracking_id"), message_id=message.get("msg_id"), delivered_at=when
    )
    recipient = str((payload.get("recipient") or {}).get("id", ""))
    if recipient and not message.get("tracking_id"):  # a Zalo user (ZNS receipts name a phone)
        record_receipt(recipient, when)
    return "delivered"


def on_seen(payload):
    for msg_id in (payload.get("message") or {}).get("msg_ids") or []:
        delivery.record_delivery(message_id=str(msg_id), delivered_at=event_time(payload), seen=True)
    return "seen"


HANDLERS = {
    "follow": on_follow,
    "unfollow": on_unfollow,
    "user_send_text": on_text,
    "user_received_message": on_received,
    "user_seen_message": on_seen,
}


def process(event_id):
    """Handle a stored event once; a redelivered task finds it processed and does nothing."""
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().get(pk=event_id)
        if event.processed_at:
            return event.outcome
        handler = HANDLERS.get(event.event_name)
        try:
            event.outcome = handler(event.payload) if handler else "ignored"
        except (KeyError, TypeError, AttributeError) as exc:
            event.outcome, event.error = "malformed", f"{exc.__class__.__name__}: {exc}"
        event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "error", "processed_at"])
    return event.outcome


def send_reply(user_id, text):
    """A CS reply to a citizen who just wrote (always allowed: they interacted a moment ago)."""
    try:
        accounts.call_with_token(lambda token: accounts.client().send_cs_message(token, user_id, text))
    except Exception as exc:  # noqa: BLE001 - the reply is best effort; the event is already handled
        logger.warning("Zalo reply to a citizen failed: %s", exc.__class__.__name__)
        return False
    return True


def answer_question(question, officer, text):
    """An officer's answer to a citizen's question, sent as a CS message; the question records the outcome."""
    from django.utils.translation import gettext as _

    sent = send_reply(question.follower.user_id, text.strip())
    question.answer = text.strip()
    question.answered_by = officer
    question.answered_at = timezone.now()
    question.state = CitizenQuestion.State.ANSWERED if sent else CitizenQuestion.State.FAILED
    question.answer_error = "" if sent else _("Zalo không nhận tin; hãy thử lại sau.")
    question.save()
    return sent
