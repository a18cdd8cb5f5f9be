"""Webhook events, after they were verified and stored: followers, the chat bot, delivery receipts."""

import logging
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from notifications import delivery

from . import accounts, bot, chatfiles
from .models import CitizenQuestion, DossierLink, Follower, FollowerWard, InboundEvent
from .signals import dossier_link_created

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
    choice = chatfiles.answer_item_choice(user_id, text)  # "2": which missing item a file sent in chat answers
    if choice is not None:
        transaction.on_commit(lambda: send_reply(user_id, choice))
        return "item_chosen"
    rated = _rating_reply(follower, text)
    if rated is not None:
        transaction.on_commit(lambda: send_reply(user_id, rated))
        return "rating"
    reply = bot.answer(user_id, text)
    if reply.dossier is not None:
        outcome = link_dossier(reply.dossier, follower)
        reply.text = f"{reply.text}\n{bot.link_text(outcome, reply.dossier)}"
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
    if reply.is_question:
        return "question"
    if reply.dossier is None:
        return "answered"
    return "link_refused" if outcome == LINK_FULL else "linked"


def _rating_reply(follower, text):
    """A reply button or "1".."5" answering a rating request sent to this account (ratings/chat.py), else None."""
    from ratings.chat import answer

    return answer(follower, text)


def on_feedback(payload):
    """A ZNS rating template answered (``user_feedback``): ratings/chat.py."""
    from ratings.chat import on_zns_feedback

    return on_zns_feedback(payload)


LINKED, ALREADY_LINKED, LINK_FULL = "linked", "already", "full"


def link_dossier(dossier, follower) -> str:
    """Future messages about this dossier go to this Zalo user (at most 3 accounts); its ward joins their warnings.

    Links of one dossier are serialised by a transaction-scoped advisory lock, so two chats at the
    same moment cannot make a fourth. A new link is announced to the applicant's phone (outbox).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LINK_LOCK_CLASS, dossier.pk])
        live = DossierLink.objects.filter(dossier=dossier, removed_at__isnull=True)
        if live.filter(follower=follower).exists():
            return ALREADY_LINKED
        if live.count() >= bot.MAX_LINKS_PER_DOSSIER:
            return LINK_FULL
        link = DossierLink.objects.create(dossier=dossier, follower=follower)
        dossier_link_created.send(sender=DossierLink, link=link)
    _follow_ward(dossier, follower)
    return LINKED


LINK_LOCK_CLASS = 0x5A4C  # "ZL": advisory lock namespace of dossier links


def unlink(link, officer) -> bool:
    """An officer removes a link: nothing more about the dossier goes to that Zalo account. False if already gone."""
    removed = DossierLink.objects.filter(pk=link.pk, removed_at__isnull=True).update(
        removed_at=timezone.now(), removed_by=officer
    )
    if not removed:
        return False
    dossier, follower = link.dossier, link.follower
    ward = dossier.applicant_ward_code
    still_there = DossierLink.objects.filter(
        follower=follower, removed_at__isnull=True, dossier__applicant_ward_code=ward
    ).exists()
    if ward and not still_there:
        FollowerWard.objects.filter(follower=follower, ward_code=ward, source=FollowerWard.Source.DOSSIER).delete()
    return True


def _follow_ward(dossier, follower):
    if dossier.applicant_ward_code:
        from .wards import ward_name

        FollowerWard.objects.get_or_create(
            follower=follower,
            ward_code=dossier.applicant_ward_code,
            source=FollowerWard.Source.DOSSIER,
            defaults={"ward_name": ward_name(dossier.applicant_ward_code)},
        )


def on_media(payload):
    """A photo or file sent in the chat: fetched and attached later by a task (zalo.chatfiles)."""
    from .tasks import fetch_chat_files

    _follower(payload["sender"]["id"], event_time(payload))
    found = chatfiles.attachments(payload)
    chatfiles.message_id(payload, 0)  # a message id is required: files are kept once per message
    if not found:
        return "ignored"
    key = dedupe_key(payload)
    transaction.on_commit(lambda: fetch_chat_files.delay(key))
    return chatfiles.progress_outcome(0, len(found))


def on_received(payload):
    from broadcasts.delivery import record_receipt

    message = payload.get("message") or {}
    when = event_time(payload)
    delivery.record_delivery(
        tracking_id=message.get("tracking_id"), message_id=message.get("msg_id"), delivered_at=when
    )
    record_receipt(message.get("msg_id"), when)  # a broadcast recipient, by Zalo's message id only
    return "delivered"


def on_seen(payload):
    for msg_id in (payload.get("message") or {}).get("msg_ids") or []:
        delivery.record_delivery(message_id=str(msg_id), delivered_at=event_time(payload), seen=True)
    return "seen"


HANDLERS = {
    "follow": on_follow,
    "unfollow": on_unfollow,
    "user_send_text": on_text,
    "user_send_image": on_media,
    "user_send_file": on_media,
    "user_received_message": on_received,
    "user_seen_message": on_seen,
    "user_feedback": on_feedback,
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
