"""Sending one outbox row: claim it, choose a channel, call Zalo, record what happened.

Every change of a row is a conditional UPDATE on the state — and the attempt number — it expects
(compare-and-set), never a save of a copy read earlier: a delivery receipt, the reaper and a sender
whose answer was lost may all act on the same row at once, and whoever finds the row no longer as
it expected leaves it alone. (Measured before: a ZNS receipt marked the row sent while the sender
was still waiting; the sender, timed out, saved its stale copy over it and the reaper sent again.)

- Only rows still PENDING (and due) are claimed: PENDING → SENDING, attempts + 1; the claim is
  committed before the HTTP call, so a second worker or a redelivered task never sends it twice.
  Before each call the channel and recipient are written on the SENDING row (so a row whose
  sender died is settled on the channel that was on the wire).
- Retryable failures go back to PENDING with capped exponential backoff and jitter until the
  row's deadline, then FAILED with the reason; the night-time ban waits for 06:00.
- An answer lost in transit (timeout, dropped connection, 5xx) may mean Zalo accepted the message:
  the row becomes UNCERTAIN for NOTIFICATION_CONFIRM_SECONDS (a worker killed mid-send leaves it
  SENDING; the reaper makes it UNCERTAIN). A delivery receipt — matched by our tracking id or
  Zalo's message id, nothing else — makes it SENT. After the window (see `_settle`):
  - ZNS carries our ``tracking_id`` and its receipt brings it back: no receipt, send again;
  - CS and template messages by user id take no tracking id, and their receipts carry only the
    message id the lost answer held: RECONCILE — read the OA's conversation with the user and
    send again only if the message is not there. A lookup that cannot decide leaves the row
    UNCERTAIN and is tried again (never resend on a guess), until the deadline: then FAILED,
    with the reason, for an officer to check.
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

from . import template_data
from .models import Attempt, Channel, Kind, Notification, State

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    state: str
    retry_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """Capped exponential backoff with full jitter."""
    base, cap = settings.NOTIFICATION_RETRY_BASE_SECONDS, settings.NOTIFICATION_RETRY_CAP_SECONDS
    return timedelta(seconds=random.uniform(base, min(cap, base * 2 ** max(attempts - 1, 0))))  # noqa: S311 -- retry jitter, not a secret


# Conversation lookups: pages of 10, at most this many (then the lookup cannot decide).
RECONCILE_PAGES = 5
# Zalo's clock against ours: a conversation message older than the row by more than this is not it.
RECONCILE_CLOCK_SKEW = timedelta(minutes=10)


class Undecided(Exception):
    """The conversation lookup could not tell whether the message is there."""


def _cas(pk, expected, attempt, /, **changes) -> bool:
    """Compare-and-set: change the row only if it is still in state ``expected`` (a state or a tuple
    of states) at attempt number ``attempt``; True if it was changed."""
    states = expected if isinstance(expected, tuple) else (expected,)
    if "state" not in changes:
        return Notification.objects.filter(pk=pk, state__in=states, attempts=attempt).update(**changes) == 1
    changes["state_changed_at"] = timezone.now()
    with transaction.atomic():
        won = Notification.objects.filter(pk=pk, state__in=states, attempts=attempt).update(**changes) == 1
        if won and {changes["state"], *states} & COUNTED_STATES:
            _figures_follow([pk])
    return won


# The states the dashboard counts (messages sent, failed): a change into or out of one refreshes them.
COUNTED_STATES = {State.SENT, State.FAILED}


def _figures_follow(pks):
    """The dashboard's message counters follow these rows' new states, in this transaction; a failure
    there never stops a message (a savepoint; reports' reconcile_figures heals it from state_changed_at)."""
    from reports import figures

    for pk in pks:
        figures.refresh_quietly(figures.MESSAGE, pk)


def _changed_rows(queryset, **changes):
    """A conditional bulk state change that names the rows it changed (locked, then updated by id)."""
    pks = list(queryset.select_for_update(of=("self",)).values_list("pk", flat=True))
    if pks:
        queryset.filter(pk__in=pks).update(state_changed_at=timezone.now(), **changes)
        _figures_follow(pks)
    return pks


def _claim(pk):
    now = timezone.now()
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("dossier", "dossier__procedure")
            .filter(pk=pk, state=State.PENDING, delivered_at__isnull=True)
            .first()
        )
        if row is None:
            return None, None
        if row.next_attempt_at and row.next_attempt_at > now + timedelta(seconds=1):
            return None, row.next_attempt_at
        # Channel cleared: an attempt that dies before naming one never reached Zalo.
        claimed = dict(state=State.SENDING, attempts=row.attempts + 1, claimed_at=now, channel="", recipient="")
        if not _cas(pk, State.PENDING, row.attempts, **claimed):
            return None, None
    for name, value in claimed.items():  # this attempt's view of the row (never saved back)
        setattr(row, name, value)
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
    """Channels to try, best first: CS (recent interaction), template by user id, ZNS by phone.

    Returns (options, skipped): options are (channel, recipient, template id, template_data); a
    template that cannot carry this message (an uncuttable value over its maximum) is skipped, with
    the reason, and the next channel is tried."""
    options, skipped = [], []
    # A new Zalo link is announced to the applicant's own phone only, never to a (possibly new) Zalo account.
    follower = None if row.kind == Kind.ZALO_LINK else _linked_follower(row.dossier)
    values = None

    def template(channel, recipient):
        nonlocal values
        template_id, params = template_data.template_for(row.kind, channel, account)
        if not template_id:
            return
        values = values if values is not None else template_data.values_for(row)
        try:
            options.append((channel, recipient, template_id, template_data.build(params, values)))
        except template_data.TemplateUnusable as exc:
            skipped.append((channel, str(exc)))

    if follower is not None:
        window = timedelta(days=settings.ZALO_CS_WINDOW_DAYS)
        if follower.last_interaction_at and timezone.now() - follower.last_interaction_at < window:
            if len(_cs_text(row)) <= template_data.CS_TEXT_MAX:
                options.append((Channel.CS, follower.user_id, "", None))
            else:
                skipped.append((Channel.CS, _("Nội dung dài quá %(max)d ký tự.") % {"max": template_data.CS_TEXT_MAX}))
        if follower.is_following:
            template(Channel.TEMPLATE, follower.user_id)
    if row.dossier.applicant_phone:
        template(Channel.ZNS, phone_for_zalo(row.dossier.applicant_phone))
    return options, skipped


def _cs_text(row):
    return row.text


def _cs_buttons(row):
    """Reply buttons under a CS message: only the rating request has them (ratings/chat.py)."""
    if row.kind != Kind.RATING:
        return None
    from ratings.chat import buttons_for

    return buttons_for(row)


def _send(channel, recipient, row, template_id, data):
    client = accounts.client()
    if channel == Channel.CS:
        buttons = _cs_buttons(row)
        if buttons:
            return accounts.call_with_token(
                lambda token: client.send_cs_message(token, recipient, _cs_text(row), buttons=buttons)
            )
        return accounts.call_with_token(lambda token: client.send_cs_message(token, recipient, _cs_text(row)))
    if channel == Channel.TEMPLATE:
        return accounts.call_with_token(lambda token: client.send_template_message(token, recipient, template_id, data))
    result = accounts.call_with_token(
        lambda token: client.send_zns(token, recipient, template_id, data, row.tracking_id)
    )
    return result.msg_id


def _finish(row, state, *, channel="", recipient="", message_id="", error="", code=None, retry_at=None, outcome=""):
    """This attempt's outcome, written only if the row is still SENDING at this attempt."""
    now = timezone.now()
    changes = {"state": state, "last_error": error[:300], "next_attempt_at": retry_at}
    if channel:
        changes.update(channel=channel, recipient=recipient)
    if message_id:
        changes.update(zalo_message_id=message_id, sent_at=now)
    with transaction.atomic():
        won = _cas(row.pk, State.SENDING, row.attempts, **changes)
        if not won and message_id:
            # Zalo accepted it: a receipt (SENT) or the reaper (UNCERTAIN) got there first; the
            # message id still belongs on the row, and an uncertain row is settled.
            won = (
                Notification.objects.filter(
                    pk=row.pk, attempts=row.attempts, state__in=(State.UNCERTAIN, State.SENT), zalo_message_id=""
                ).update(state=State.SENT, zalo_message_id=message_id, sent_at=now, state_changed_at=now)
                == 1
            )
            if won:
                _figures_follow([row.pk])
        Attempt.objects.create(
            notification=row,
            channel=channel or Channel.NONE,
            outcome=(outcome or state) if won else "superseded",
            error_code=code,
            error=(error if won else f"{outcome or state}: {error}")[:300],
        )
    if won:
        return Outcome(state, retry_at)
    # Someone else decided meanwhile (a receipt, the reaper): their state stands.
    logger.info("outbox row %s: attempt %s outcome %s superseded", row.pk, row.attempts, outcome or state)
    current = Notification.objects.filter(pk=row.pk).values_list("state", flat=True).first()
    return Outcome(current or state)


def _on_the_wire(row, channel, recipient) -> bool:
    """Name the channel on the row before calling Zalo; False if the row is no longer this attempt's."""
    return _cas(row.pk, State.SENDING, row.attempts, channel=channel, recipient=recipient)


# -- after a lost answer -------------------------------------------------------------------------


def _settle(pk):
    """An UNCERTAIN row whose confirmation window is over: confirmed by a receipt, reconciled, or
    made PENDING again to be re-sent. Returns an Outcome when nothing is to be sent now."""
    row = Notification.objects.select_related("dossier", "dossier__procedure").filter(pk=pk).first()
    if row is None or row.state != State.UNCERTAIN:
        return None
    now = timezone.now()
    if row.delivered_at:
        _cas(pk, State.UNCERTAIN, row.attempts, state=State.SENT)
        return Outcome(State.SENT)
    if row.next_attempt_at and row.next_attempt_at > now:
        return Outcome(State.UNCERTAIN, row.next_attempt_at)  # still waiting for a receipt
    if row.channel not in (Channel.CS, Channel.TEMPLATE):
        # ZNS: its receipt carries our tracking id and none came; no channel: nothing was on the wire.
        _cas(pk, State.UNCERTAIN, row.attempts, state=State.PENDING, next_attempt_at=now)
        return None
    return _reconcile(row, now)


def _reconcile(row, now):
    """CS/template: look the message up in the OA's conversation with the user before resending."""
    # The lookup holds the row as SENDING (a killed lookup is reaped back to UNCERTAIN).
    if not _cas(row.pk, State.UNCERTAIN, row.attempts, state=State.SENDING, claimed_at=now):
        return Outcome(State.UNCERTAIN)  # another task is settling it
    try:
        message_id = _find_in_conversation(row)
    except (zerr.ZaloError, accounts.NotConfigured, Undecided) as exc:
        if now >= row.deadline:
            error = _("Không xác định được tin đã đến công dân chưa (%(error)s); kiểm tra trước khi gửi lại.") % {
                "error": exc
            }
            return _finish(row, State.FAILED, channel=row.channel, recipient=row.recipient, error=error)
        window = now + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS)
        return _finish(
            row,
            State.UNCERTAIN,
            channel=row.channel,
            recipient=row.recipient,
            error=str(exc),
            retry_at=window,
            outcome="lookup_failed",
        )
    if message_id:
        return _finish(
            row, State.SENT, channel=row.channel, recipient=row.recipient, message_id=message_id, outcome="reconciled"
        )
    # Not in the conversation: Zalo did not accept it; send again now.
    outcome = _finish(
        row, State.PENDING, channel=row.channel, recipient=row.recipient, retry_at=now, outcome="not_accepted"
    )
    return None if outcome.state == State.PENDING else outcome


def _same_text(a, b):
    return " ".join(str(a or "").split()) == " ".join(str(b or "").split())


def _is_this_message(item, row):
    """Is this conversation entry our row's message? By its content only (the answer with its id was lost)."""
    if str(item.get("from_id", "")) == row.recipient:
        return False  # written by the citizen
    text = item.get("message", item.get("text", ""))
    if row.channel == Channel.CS:
        return str(item.get("type", "text")) == "text" and _same_text(text, _cs_text(row))
    # A template shows its text rendered with our parameters: every value we sent is in it.
    if str(item.get("type", "")) == "text":
        return False
    template_id, params = template_data.template_for(row.kind, Channel.TEMPLATE, accounts.current_account())
    try:
        data = template_data.build(params, template_data.values_for(row)) if template_id else {}
    except template_data.TemplateUnusable:
        return False
    wanted = [" ".join(str(v).split()) for v in data.values() if str(v).strip()]
    shown = " ".join(str(text or "").split())
    return bool(wanted) and all(v in shown for v in wanted)


def _find_in_conversation(row):
    """Zalo's message id of this row's message if the conversation holds it, None if it does not;
    raises Undecided (or a ZaloError) when the lookup cannot tell."""
    client = accounts.client()
    since_ms = int((row.created_at - RECONCILE_CLOCK_SKEW).timestamp() * 1000)
    # Messages already ours (other rows to the same user) are never this one.
    taken = set(
        Notification.objects.filter(recipient=row.recipient)
        .exclude(pk=row.pk)
        .exclude(zalo_message_id="")
        .values_list("zalo_message_id", flat=True)
    )
    page_size = 10
    for page in range(RECONCILE_PAGES):
        items = accounts.call_with_token(
            lambda token, offset=page * page_size: client.conversation(
                token, row.recipient, offset=offset, count=page_size
            )
        )
        for item in items:
            message_id = str(item.get("message_id") or "")
            if message_id and message_id not in taken and _is_this_message(item, row):
                return message_id
            try:
                if int(item.get("time")) < since_ms:
                    return None  # older than the row: everything since has been read
            except (TypeError, ValueError):
                pass
        if len(items) < page_size:
            return None  # the whole conversation has been read
    raise Undecided(_("Hội thoại có hơn %(n)d tin kể từ khi gửi.") % {"n": RECONCILE_PAGES * page_size})


def send(pk) -> Outcome | None:
    """Send one outbox row if it is still pending; returns what happened (None: nothing to do).

    An UNCERTAIN row whose window is over is settled first (see `_settle`)."""
    settled = _settle(pk)
    if settled is not None:
        return settled
    row, wait_until = _claim(pk)
    if row is None:
        return Outcome(State.PENDING, wait_until) if wait_until else None
    account = accounts.current_account()
    if account is None:
        return _finish(row, State.NO_CHANNEL, error=_("Tỉnh chưa cấu hình tài khoản Zalo OA."))
    options, skipped = channels_for(row, account)
    for channel, reason in skipped:  # visible on the row's attempts: why this channel was not used
        Attempt.objects.create(notification=row, channel=channel, outcome="skipped", error=reason[:300])
    if not options:
        if skipped:
            return _finish(row, State.NO_CHANNEL, error="; ".join(f"{c}: {r}" for c, r in skipped))
        return _finish(row, State.NO_CHANNEL, error=_("Công dân chưa liên kết Zalo và không có số điện thoại/mẫu tin."))
    last_error = "; ".join(f"{c}: {r}" for c, r in skipped)
    for channel, recipient, template_id, data in options:
        if not _on_the_wire(row, channel, recipient):
            return None  # the reaper or a receipt took the row from this attempt
        try:
            message_id = _send(channel, recipient, row, template_id, data)
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
    """Rows a lost broker message or a killed worker left behind, returned to re-queue: PENDING rows
    overdue, and UNCERTAIN CS/template rows whose window is over (the task reconciles them).

    Every change here is a conditional bulk UPDATE on the state it expects."""
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
    with transaction.atomic():
        # Killed mid-send: the answer is unknown, so wait for a delivery receipt like an uncertain send.
        _changed_rows(
            Notification.objects.filter(state=State.SENDING, claimed_at__lt=now - stale),
            state=State.UNCERTAIN,
            next_attempt_at=now + timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS),
        )
        _changed_rows(
            Notification.objects.filter(state=State.UNCERTAIN, next_attempt_at__lte=now, delivered_at__isnull=False),
            state=State.SENT,
        )
        unconfirmed = Notification.objects.filter(state=State.UNCERTAIN, next_attempt_at__lte=now)
        # ZNS (its receipt would carry our tracking id) or nothing on the wire: send again.
        _changed_rows(
            unconfirmed.exclude(channel__in=(Channel.CS, Channel.TEMPLATE)),
            state=State.PENDING,
            next_attempt_at=timezone.now(),
        )
        to_reconcile = list(unconfirmed.values_list("pk", flat=True))  # CS/template, still UNCERTAIN
        due = to_reconcile + list(
            Notification.objects.filter(state=State.PENDING, next_attempt_at__lte=now - stale).values_list(
                "pk", flat=True
            )
        )
        overdue = Notification.objects.filter(state=State.PENDING, deadline__lt=now)
        _changed_rows(overdue, state=State.FAILED, last_error=_("Quá hạn gửi"))
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
    # It did arrive: whatever an attempt in flight, the reaper or a retry thought (conditional update).
    with transaction.atomic():
        _changed_rows(
            rows.filter(attempts__gt=0, state__in=(State.UNCERTAIN, State.SENDING, State.PENDING, State.FAILED)),
            state=State.SENT,
            next_attempt_at=None,
            last_error="",
        )
        return rows.update(delivered_at=when)


def requeue_failed(row: Notification):
    """Officer's "resend" on a failed row: a fresh set of attempts."""
    with transaction.atomic():
        _changed_rows(
            Notification.objects.filter(pk=row.pk, state__in=(State.FAILED, State.NO_CHANNEL)),
            state=State.PENDING,
            next_attempt_at=timezone.now(),
            deadline=timezone.now() + timedelta(hours=settings.NOTIFICATION_DEADLINE_HOURS),
            last_error="",
        )
    from .tasks import send_notification

    transaction.on_commit(lambda: send_notification.delay(row.pk))
