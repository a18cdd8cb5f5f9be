"""Sending one outbox row: claim it, choose a channel, call Zalo, record what happened.

- Only rows still PENDING (and due) are claimed, under a row lock; the claim is committed before
  the HTTP call, so a second worker or a redelivered task never sends the same row twice.
- Retryable failures go back to PENDING with capped exponential backoff and jitter until the
  row's deadline, then FAILED with the reason; the night-time ban waits for 06:00.
- An answer lost in transit (timeout, dropped connection, 5xx) may mean Zalo accepted the message:
  the row becomes UNCERTAIN and is re-sent only if no delivery receipt confirms it in time
  (see `reap`). A worker killed mid-send leaves the row SENDING; the reaper treats it the same way.
"""

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offices.phones import phone_for_zalo
from zalo import accounts
from zalo import errors as zerr
from zalo.models import DossierLink, ZaloAccount

from .models import Attempt, Channel, Kind, Notification, State

logger = logging.getLogger(__name__)

TEMPLATE_FIELDS = {
    Kind.RECEIPT: "template_receipt",
    Kind.SUPPLEMENT: "template_supplement",
    Kind.RESULT_EARLY: "template_result_early",
    Kind.RESULT_READY: "template_result_ready",
    Kind.APOLOGY: "template_apology",
    Kind.ZALO_LINK: "template_zalo_link",
}


@dataclass
class Outcome:
    state: str
    retry_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """Capped exponential backoff with full jitter."""
    base, cap = settings.NOTIFICATION_RETRY_BASE_SECONDS, settings.NOTIFICATION_RETRY_CAP_SECONDS
    return timedelta(seconds=random.uniform(base, min(cap, base * 2 ** max(attempts - 1, 0))))


def _claim(pk):
    now = timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dossier", "dossier__procedure")
            .filter(pk=pk, state=State.PENDING)
            .first()
        )
        if row is None:
            return None, None
        if row.next_attempt_at and row.next_attempt_at > now + timedelta(seconds=1):
            return None, row.next_attempt_at
        row.state = State.SENDING
        row.attempts += 1
        row.claimed_at = now
        row.save(update_fields=["state", "attempts", "claimed_at"])
    return row, None


def _linked_follower(dossier):
    link = (
        DossierLink.objects.select_related("follower")
        .filter(dossier=dossier, removed_at__isnull=True, follower__is_following=True)
        .order_by("-linked_at")
        .first()
    )
    if link is None:  # a citizen who wrote to the OA without following can still get CS replies
        link = (
            DossierLink.objects.select_related("follower")
            .filter(dossier=dossier, removed_at__isnull=True)
            .order_by("-linked_at")
            .first()
        )
    return link.follower if link else None


def channels_for(row, account: ZaloAccount):
    """Channels to try, best first: CS (recent interaction), template by user id, ZNS by phone."""
    options = []
    # A new Zalo link is announced to the applicant's own phone only, never to a (possibly new) Zalo account.
    follower = None if row.kind == Kind.ZALO_LINK else _linked_follower(row.dossier)
    template_id = getattr(account, TEMPLATE_FIELDS[row.kind], "")
    if follower is not None:
        window = timedelta(days=settings.ZALO_CS_WINDOW_DAYS)
        if follower.last_interaction_at and timezone.now() - follower.last_interaction_at < window:
            options.append((Channel.CS, follower.user_id))
        if follower.is_following and template_id:
            options.append((Channel.TEMPLATE, follower.user_id))
    if row.dossier.applicant_phone and template_id:
        options.append((Channel.ZNS, phone_for_zalo(row.dossier.applicant_phone)))
    return options, template_id


def _template_data(row):
    dossier = row.dossier
    return {
        "ma_ho_so": dossier.code,
        "ten_thu_tuc": dossier.procedure.name[:100],
        "ngay_hen": f"{dossier.appointment_date:%d/%m/%Y}" if dossier.appointment_date else "",
        "noi_dung": row.text[:400],
    }


def _send(channel, recipient, row, template_id):
    client = accounts.client()
    if channel == Channel.CS:
        return accounts.call_with_token(lambda token: client.send_cs_message(token, recipient, row.text))
    if channel == Channel.TEMPLATE:
        return accounts.call_with_token(
            lambda token: client.send_template_message(token, recipient, template_id, _template_data(row))
        )
    result = accounts.call_with_token(
        lambda token: client.send_zns(token, recipient, template_id, _template_data(row), row.tracking_id)
    )
    return result.msg_id


def _finish(row, state, *, channel="", recipient="", message_id="", error="", code=None, retry_at=None, outcome=""):
    with transaction.atomic():
        Attempt.objects.create(
            notification=row,
            channel=channel or Channel.NONE,
            outcome=outcome or state,
            error_code=code,
            error=error[:300],
        )
        row.state = state
        row.channel = channel or row.channel
        row.recipient = recipient or row.recipient
        row.last_error = error[:300]
        row.next_attempt_at = retry_at
        if message_id:
            row.zalo_message_id = message_id
            row.sent_at = timezone.now()
        row.save()
    return Outcome(state, retry_at)


def send(pk) -> Outcome | None:
    """Send one outbox row if it is still pending; returns what happened (None: nothing to do)."""
    row, wait_until = _claim(pk)
    if row is None:
        return Outcome(State.PENDING, wait_until) if wait_until else None
    account = accounts.current_account()
    if account is None:
        return _finish(row, State.NO_CHANNEL, error=_("Tỉnh chưa cấu hình tài khoản Zalo OA."))
    options, template_id = channels_for(row, account)
    if not options:
        return _finish(row, State.NO_CHANNEL, error=_("Công dân chưa liên kết Zalo và không có số điện thoại/mẫu tin."))
    last_error = ""
    for channel, recipient in options:
        try:
            message_id = _send(channel, recipient, row, template_id)
        except (zerr.NotInteracted, zerr.NotFollower) as exc:
            last_error = f"{channel}: {exc}"
            Attempt.objects.create(
                notification=row, channel=channel, outcome="fallback", error_code=exc.code, error=str(exc)[:300]
            )
            continue  # the next channel
        except zerr.NightBan as exc:
            return _finish(
                row,
                State.PENDING,
                channel=channel,
                recipient=recipient,
                error=str(exc),
                code=exc.code,
                retry_at=exc.retry_at,
                outcome="night_ban",
            )
        except zerr.TransportFailure as exc:
            # The request may have reached Zalo: confirm before sending again.
            window = timezone.now() + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS)
            return _finish(
                row,
                State.UNCERTAIN,
                channel=channel,
                recipient=recipient,
                error=str(exc),
                retry_at=window,
                outcome="uncertain",
            )
        except zerr.RetryLater as exc:
            return _retry(row, channel, recipient, exc)
        except zerr.ZaloError as exc:  # Permanent, TokenInvalid after one refresh, …
            return _finish(row, State.FAILED, channel=channel, recipient=recipient, error=str(exc), code=exc.code)
        except accounts.NotConfigured as exc:
            return _finish(row, State.NO_CHANNEL, error=str(exc))
        return _finish(row, State.SENT, channel=channel, recipient=recipient, message_id=message_id, outcome="sent")
    return _finish(row, State.NO_CHANNEL, error=last_error or _("Không có kênh nào nhận tin."))


def _retry(row, channel, recipient, exc):
    hint = getattr(exc, "retry_after", None)  # e.g. 60 s after −32, midnight after a daily quota
    delay = timedelta(seconds=min(hint, settings.NOTIFICATION_RETRY_CAP_SECONDS)) if hint else backoff(row.attempts)
    if isinstance(exc, zerr.QuotaExceeded) and hint:
        delay = timedelta(seconds=hint)  # nothing goes through before the quota resets
    retry_at = timezone.now() + delay
    if retry_at > row.deadline:
        return _finish(
            row,
            State.FAILED,
            channel=channel,
            recipient=recipient,
            code=exc.code,
            error=_("Hết hạn gửi sau %(n)d lần: %(error)s") % {"n": row.attempts, "error": exc},
        )
    return _finish(
        row,
        State.PENDING,
        channel=channel,
        recipient=recipient,
        error=str(exc),
        code=exc.code,
        retry_at=retry_at,
        outcome="retry",
    )


def reap(now=None):
    """Rows a lost broker message or a killed worker left behind: back to PENDING, returned to re-queue."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
    with transaction.atomic():
        # Killed mid-send: the answer is unknown, so wait for a delivery receipt like an uncertain send.
        Notification.objects.filter(state=State.SENDING, claimed_at__lt=now - stale).update(
            state=State.UNCERTAIN, next_attempt_at=now + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS)
        )
        Notification.objects.filter(state=State.UNCERTAIN, next_attempt_at__lte=now, delivered_at__isnull=False).update(
            state=State.SENT
        )
        unconfirmed = Notification.objects.filter(state=State.UNCERTAIN, next_attempt_at__lte=now)
        unconfirmed.update(state=State.PENDING, next_attempt_at=timezone.now())
        due = list(
            Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now - stale).values_list(
                "pk", flat=True
            )
        )
        overdue = Notification.objects.filter(state=State.PENDING, deadline__lt=now)
        overdue.update(state=State.FAILED, last_error=_("Quá hạn gửi"))
    return due


def record_delivery(*, tracking_id=None, message_id=None, delivered_at=None, seen=False):
    """A delivery or seen receipt from Zalo: note it on the row (and confirm an uncertain send)."""
    rows = Notification.objects.all()
    if tracking_id:
        rows = rows.filter(tracking_id=tracking_id)
    elif message_id:
        rows = rows.filter(zalo_message_id=message_id)
    else:
        return 0
    when = delivered_at or timezone.now()
    if seen:
        return rows.update(seen_at=when)
    rows.filter(state__in=(State.UNCERTAIN, State.SENDING)).update(state=State.SENT)  # it did arrive
    return rows.update(delivered_at=when)


def requeue_failed(row: Notification):
    """Officer's "resend" on a failed row: a fresh set of attempts."""
    Notification.objects.filter(pk=row.pk, state__in=(State.FAILED, State.NO_CHANNEL)).update(
        state=State.PENDING,
        next_attempt_at=timezone.now(),
        deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
        last_error="",
    )
    from .tasks import send_notification

    transaction.on_commit(lambda: send_notification.delay(row.pk))
