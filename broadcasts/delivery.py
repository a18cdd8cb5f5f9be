"""Fan-out of an approved broadcast.

Routine information in the daytime goes out as one Zalo article broadcast where the platform allows
it; emergencies, warnings and anything at night go per follower (CS message if they interacted
within the window, else a template message to their Zalo id). Every follower is a Recipient row
with a unique (broadcast, follower) key, claimed before it is sent, so a crash, a retry or a
restarted worker never sends twice. A Redis token bucket per OA keeps all workers under the
province's rate; a −32 answer backs off and retries the same follower.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.kv import tenant_key
from egov.tokenbucket import TokenBucket
from zalo import accounts
from zalo import errors as zerr
from zalo.models import Follower

from . import services
from .models import Broadcast, BroadcastSettings, Recipient, Severity, State

logger = logging.getLogger(__name__)
BATCH = 200
MAX_RATE_LIMIT_RETRIES = 5


def audience(b: Broadcast):
    followers = Follower.objects.filter(is_following=True)
    if not b.all_wards:
        followers = followers.filter(wards__ward_code__in=b.wards)
    return followers.distinct()


def message_text(b: Broadcast) -> str:
    text = f"[{b.get_severity_display().upper()}] {b.title}\n{b.body}"
    return f"{text}\n{b.link}" if b.link else text


def use_article(b: Broadcast, now=None) -> bool:
    """Routine information in the daytime, to everyone: one article broadcast (quota permitting)."""
    return b.severity == Severity.INFORMATION and b.all_wards and not zerr.in_night_ban(now)


def start(broadcast_id, enqueue=None):
    """Begin an approved broadcast and return its recipient batches (empty if nothing to do).

    With `enqueue`, each batch is handed over as soon as it exists: the first followers are written
    and queued before the rest of a large audience, so the first warning leaves within a second.
    """
    b, outcome = services.begin_sending(broadcast_id)
    if outcome == "skip":
        return None
    if outcome == "wait":
        return "wait"  # a correction goes out after the original
    if use_article(b) and _send_article(b):
        return []
    batches = []

    def hand_over(ids):
        for i in range(0, len(ids), BATCH):
            batches.append(ids[i : i + BATCH])
            if enqueue:
                enqueue(batches[-1])

    pending = Recipient.objects.filter(broadcast=b, status=Recipient.Status.PENDING).order_by("pk")
    _create_recipients(b, limit=BATCH)
    first = list(pending.values_list("pk", flat=True))
    hand_over(first)
    total = _create_recipients(b)
    services.record_fan_out(b.pk, total)
    hand_over(list(pending.exclude(pk__in=first).values_list("pk", flat=True)))
    finish_if_done(b.pk)  # the first batch may already be done (or there was nobody to send to)
    return batches


def _create_recipients(b, limit=None):
    """One INSERT … SELECT for the audience (100,000 rows in about a second); `limit`: the first few."""
    from django.db import connection

    followers = audience(b).order_by("id").values("id")
    subquery, params = (followers[:limit] if limit else followers).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {Recipient._meta.db_table} (broadcast_id, follower_id, status, channel, message_id, error)
                SELECT %s, audience.id, %s, '', '', '' FROM ({subquery}) AS audience
                ON CONFLICT (broadcast_id, follower_id) DO NOTHING""",
            [b.pk, Recipient.Status.PENDING, *params],
        )
    return Recipient.objects.filter(broadcast=b).count()


def _send_article(b):
    client = accounts.client()
    try:
        token = accounts.call_with_token(
            lambda t: client.create_article(t, b.title, message_text(b), description=b.title[:100])
        )
        article_id = None
        for _ in range(20):
            article_id = accounts.call_with_token(lambda t: client.verify_article(t, token))
            if article_id:
                break
            time.sleep(0.5)
        if not article_id:
            return False
        accounts.call_with_token(lambda t: client.broadcast_article(t, article_id))
    except zerr.ZaloError as exc:  # night ban, quota, anything: fall back to per-follower messages
        logger.info("article broadcast not possible (%s); sending per follower", exc.__class__.__name__)
        return False
    services.record_article_sent(b.pk, audience(b).count())
    return True


CHUNK = 25  # recipients claimed together: one claim and one result write per chunk


def _claim_chunk(ids):
    """Mark these recipients as being sent (only those still pending); returns the claimed ids."""
    with transaction.atomic():
        claimed = list(
            Recipient.objects.filter(pk__in=ids, status=Recipient.Status.PENDING)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Recipient.objects.filter(pk__in=claimed).update(status=Recipient.Status.SENDING, claimed_at=timezone.now())
    return claimed


def _send_one(recipient, text, template_id, bucket, token):
    client = accounts.client()
    follower = recipient.follower
    window = timedelta(days=settings.ZALO_CS_WINDOW_DAYS)
    recent = follower.last_interaction_at and timezone.now() - follower.last_interaction_at < window
    data = {"tieu_de": text[:100], "noi_dung": text[:400]}
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        bucket.take()
        try:
            if recent:
                try:
                    return "cs", token.call(lambda t: client.send_cs_message(t, follower.user_id, text))
                except zerr.NotInteracted:
                    recent = False
            if not template_id:
                raise zerr.Permanent(None, "no broadcast template configured for template messages")
            return "template", token.call(
                lambda t: client.send_template_message(t, follower.user_id, template_id, data)
            )
        except zerr.RateLimited:
            time.sleep(min(2**attempt, 30) * 0.5)
    raise zerr.RateLimited(-32, "still rate limited after retries")


def send_batch(broadcast_id, recipient_ids):
    b = Broadcast.objects.get(pk=broadcast_id)
    account = accounts.current_account()
    if account is None:
        Recipient.objects.filter(pk__in=recipient_ids, status=Recipient.Status.PENDING).update(
            status=Recipient.Status.FAILED, error=_("Tỉnh chưa cấu hình tài khoản Zalo OA.")
        )
        finish_if_done(broadcast_id)
        return
    template_id = account.template_broadcast
    rate = BroadcastSettings.current().rate_per_minute
    bucket = TokenBucket(tenant_key("bucket", account.oa_id), rate)
    text = message_text(b)
    token = accounts.TokenSession()
    ids = sorted(recipient_ids)
    for start in range(0, len(ids), CHUNK):
        if Broadcast.objects.filter(pk=broadcast_id, state=State.CANCELLED).exists():
            break
        claimed = _claim_chunk(ids[start : start + CHUNK])
        results = []
        for recipient in Recipient.objects.select_related("follower").filter(pk__in=claimed).order_by("pk"):
            try:
                recipient.channel, recipient.message_id = _send_one(recipient, text, template_id, bucket, token)
                recipient.status, recipient.sent_at = Recipient.Status.SENT, timezone.now()
            except zerr.ZaloError as exc:
                recipient.status, recipient.error = Recipient.Status.FAILED, str(exc)[:300]
            results.append(recipient)
        Recipient.objects.bulk_update(results, ["status", "channel", "message_id", "sent_at", "error"])
    finish_if_done(broadcast_id)


UNFINISHED = (Recipient.Status.PENDING, Recipient.Status.SENDING, Recipient.Status.UNCERTAIN)


def finish_if_done(broadcast_id):
    """Sent once no recipient is left to send (the state change itself is `services.finish_sending`)."""
    return services.finish_sending(
        broadcast_id, lambda b: Recipient.objects.filter(broadcast=b, status__in=UNFINISHED).exists()
    )


def progress(b: Broadcast) -> dict:
    """Sent / failed / pending, rate and estimated time left, per ward too (for the admin's progress bar)."""
    counts = Recipient.objects.filter(broadcast=b).aggregate(
        sent=Count("pk", filter=Q(status=Recipient.Status.SENT)),
        failed=Count("pk", filter=Q(status=Recipient.Status.FAILED)),
        skipped=Count("pk", filter=Q(status=Recipient.Status.SKIPPED)),
        pending=Count(
            "pk", filter=Q(status__in=(Recipient.Status.PENDING, Recipient.Status.SENDING, Recipient.Status.UNCERTAIN))
        ),
    )
    total = b.total_recipients or sum(counts.values())
    done = counts["sent"] + counts["failed"] + counts["skipped"]
    elapsed = ((b.finished_at or timezone.now()) - b.started_at).total_seconds() if b.started_at else 0
    rate = counts["sent"] / elapsed if elapsed > 0 else 0.0
    return {
        "state": b.state,
        "state_label": b.get_state_display(),
        "mode": b.delivery_mode,
        "total": total,
        **counts,
        "percent": 100 if b.state == State.SENT else (round(100 * done / total) if total else 0),
        "rate_per_second": round(rate, 1),
        "seconds_left": round(counts["pending"] / rate) if rate and counts["pending"] else 0,
    }


def per_ward_counts(b: Broadcast):
    """How many followers of each targeted ward the broadcast reaches."""
    from zalo.models import FollowerWard

    if b.all_wards:
        return []
    rows = (
        FollowerWard.objects.filter(ward_code__in=b.wards, follower__is_following=True)
        .values("ward_code", "ward_name")
        .annotate(followers=Count("follower", distinct=True))
        .order_by("ward_name")
    )
    return list(rows)


def resume(now=None):
    """Beat: finish broadcasts whose batches were lost with a broker or a killed worker.

    A recipient left "sending" by a killed worker may or may not have received the warning: it waits
    (uncertain) for Zalo's delivery receipt, and is sent again only if none came in time. Pending
    recipients of a broadcast still sending are queued again. Returns {broadcast id: [batches]}.
    """
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
    confirm = timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS)
    live = Recipient.objects.filter(broadcast__state=State.SENDING)
    live.filter(status=Recipient.Status.SENDING, claimed_at__lt=now - stale).update(status=Recipient.Status.UNCERTAIN)
    live.filter(status=Recipient.Status.UNCERTAIN, claimed_at__lt=now - stale - confirm).update(
        status=Recipient.Status.PENDING
    )
    work = {}
    for b in Broadcast.objects.filter(state=State.SENDING, started_at__lt=now - stale):
        ids = list(Recipient.objects.filter(broadcast=b, status=Recipient.Status.PENDING).values_list("pk", flat=True))
        if ids:
            work[b.pk] = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        else:
            finish_if_done(b.pk)
    return work


def record_receipt(user_id, delivered_at):
    """Zalo delivered a message to this user: confirms an uncertain broadcast send made before it."""
    return Recipient.objects.filter(
        status__in=(Recipient.Status.UNCERTAIN, Recipient.Status.SENDING),
        follower__user_id=user_id,
        claimed_at__lte=delivered_at,
        broadcast__state=State.SENDING,
    ).update(status=Recipient.Status.SENT, sent_at=delivered_at)
