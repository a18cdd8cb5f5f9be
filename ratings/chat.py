"""Ratings given in Zalo: reply buttons and "1".."5" in the OA chat, and ZNS rating templates.

- The CS rating request carries five reply buttons (`buttons_for`); Zalo sends a tapped button's
  payload back as the citizen's text ("#DG <ref> <score>", docs: Zalo's ``oa.query.hide`` button [?]).
  The ref names the request, but a payload is only text anyone can type: it counts only from a Zalo
  account linked (live) to that request's dossier.
- A bare "1".."5" rates the dossier of the latest rating request sent to this very account (CS or
  template by user id) within RATING_CHAT_REPLY_DAYS, and only while the account is still linked.
- A ZNS rating template is answered by Zalo's ``user_feedback`` event, which carries our
  ``tracking_id`` (and Zalo's ``msg_id``): it rates the dossier of that rating request only [2nd].

Anything else is not a rating (None): the bot answers as before. A webhook is verified, stored once
per msg_id and processed once before it gets here (zalo/webhook.py, zalo/inbox.py).
"""

import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import Channel, Kind, Notification
from zalo.models import DossierLink

from . import services
from .links import rating_url
from .models import Rating, RatingRequest

PAYLOAD_PREFIX = "#DG"
PAYLOAD_RE = re.compile(r"^\s*#DG\s+([0-9a-f]{6,16})\s+([1-5])\s*$", re.IGNORECASE)
DIGIT_RE = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")

LABELS = {
    5: gettext_lazy("Rất hài lòng"),
    4: gettext_lazy("Hài lòng"),
    3: gettext_lazy("Bình thường"),
    2: gettext_lazy("Không hài lòng"),
    1: gettext_lazy("Rất không hài lòng"),
}


def payload(request: RatingRequest, score: int) -> str:
    return f"{PAYLOAD_PREFIX} {request.ref} {score}"


def buttons_for(row: Notification):
    """The reply buttons of a rating request's CS message (best first), or None for other messages."""
    if row.kind != Kind.RATING:
        return None
    request = RatingRequest.objects.filter(notification_id=row.pk).first()
    if request is None:
        return None
    return [
        {"title": f"{score} – {LABELS[score]}", "type": "oa.query.hide", "payload": payload(request, score)}
        for score in (5, 4, 3, 2, 1)
    ]


def _linked(request, follower) -> bool:
    return DossierLink.objects.filter(
        dossier_id=request.dossier_id, follower=follower, removed_at__isnull=True
    ).exists()


def _request_for_digit(follower):
    since = timezone.now() - timedelta(days=settings.RATING_CHAT_REPLY_DAYS)
    return (
        RatingRequest.objects.select_related("dossier")
        .filter(
            notification__recipient=follower.user_id,
            notification__channel__in=(Channel.CS, Channel.TEMPLATE),
            notification__sent_at__isnull=False,
            notification__sent_at__gte=since,
        )
        .order_by("-notification__sent_at")
        .first()
    )


def answer(follower, text: str) -> str | None:
    """The reply to a rating given in the chat, or None when `text` is not one (the bot answers it)."""
    match = PAYLOAD_RE.match(text or "")
    if match:
        request = RatingRequest.objects.select_related("dossier").filter(ref=match.group(1).lower()).first()
        source = Rating.Source.BUTTON
        if request is None or not _linked(request, follower):
            return str(NOT_YOURS)  # a payload typed or replayed by another account: nothing is rated
        score = int(match.group(2))
    else:
        match = DIGIT_RE.match(text or "")
        if not match:
            return None
        request = _request_for_digit(follower)
        if request is None or not _linked(request, follower):
            return None  # not an answer to a rating request of this account: an ordinary message
        source, score = Rating.Source.CHAT, int(match.group(1))
    return _record(request, score, source, follower.user_id)


NOT_YOURS = gettext_lazy("Không ghi nhận được đánh giá: tài khoản Zalo này không nhận tin về hồ sơ đó.")


def _record(request, score, source, user_id):
    dossier = request.dossier
    try:
        _rating, created = services.record(dossier, score, source=source, follower_user_id=user_id)
    except services.RatingRefused as exc:
        return f"{exc.message} ({dossier.code})"
    values = {
        "code": dossier.code,
        "score": score,
        "link": rating_url(dossier),
        "days": int(settings.RATING_CHANGE_DAYS),
    }
    if created:
        return (
            _(
                "Cảm ơn ông/bà đã đánh giá hồ sơ %(code)s: %(score)s/5. Ông/bà có thể đổi đánh giá trong %(days)s "
                "ngày hoặc góp ý thêm tại: %(link)s"
            )
            % values
        )
    return _("Đã cập nhật đánh giá hồ sơ %(code)s: %(score)s/5. Góp ý thêm tại: %(link)s") % values


def on_zns_feedback(payload: dict) -> str:
    """Zalo's ``user_feedback`` on a ZNS rating template: rates the dossier of the request it answers."""
    message = payload.get("message") or {}
    tracking_id = str(message.get("tracking_id") or "")
    msg_id = str(message.get("msg_id") or "")
    if not tracking_id:
        return "feedback_unmatched"
    request = (
        RatingRequest.objects.select_related("dossier", "notification")
        .filter(notification__tracking_id=tracking_id, notification__kind=Kind.RATING)
        .first()
    )
    if request is None or request.notification.channel != Channel.ZNS:
        return "feedback_unmatched"
    if msg_id and request.notification.zalo_message_id and msg_id != request.notification.zalo_message_id:
        return "feedback_unmatched"
    notes = [str(message.get("note") or "").strip()]
    feedback = message.get("feedback")
    if isinstance(feedback, list):
        notes += [str(f).strip() for f in feedback if str(f).strip()]
    try:
        services.record(
            request.dossier,
            message.get("rate"),
            "; ".join(n for n in notes if n)[: services.MAX_COMMENT],
            source=Rating.Source.ZNS,
        )
    except services.RatingLocked:
        return "rating_locked"
    except services.RatingRefused:
        return "rating_refused"
    return "rated"
