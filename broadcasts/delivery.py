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
from notifications.template_data import build, template_for
from zalo import accounts
from zalo import errors as zerr
from zalo.models import Follower

from . import services, stopping
from .models import Broadcast, BroadcastSettings, Recipient, Severity, State

logger = logging.getLogger(__name__)
BATCH = 200
MAX_RATE_LIMIT_RETRIES = 5
# Zalo's article limits (docs/zalo-api.md, "Articles"); the cover is the portal's static default.
ARTICLE_TITLE_MAX, ARTICLE_AUTHOR_MAX, ARTICLE_DESCRIPTION_MAX = 150, 50, 300
ARTICLE_COVER = "broadcasts/article-cover.png"


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
        # The table name comes from the model and the subquery from the ORM; values are bound parameters.
        sql = (
            f"INSERT INTO {Recipient._meta.db_table} "  # noqa: S608
            "(broadcast_id, follower_id, status, channel, message_id, error) "
            f"SELECT %s, audience.id, %s, '', '', '' FROM ({subquery}) AS audience "
            "ON CONFLICT (broadcast_id, follower_id) DO NOTHING"
        )
        cursor.execute(sql, [b.pk, Recipient.Status.PENDING, *params])
    return Recipient.objects.filter(broadcast=b).count()


def article_author():
    """Zalo requires an author (≤ 50 characters): the OA's name, else the province's."""
    from django.db import connection

    account = accounts.current_account()
    name = (account.name if account else "") or getattr(connection.tenant, "name", "")
    return name.strip()[:ARTICLE_AUTHOR_MAX]


def article_cover_url():
    """An image Zalo can fetch: the configured one, else the portal's own default cover."""
    from django.db import connection
    from django.templatetags.static import static

    from provinces.services import province_url

    return settings.BROADCAST_ARTICLE_COVER_URL or province_url(connection.tenant, static(ARTICLE_COVER))


def _send_article(b):
    """One article broadcast; False (with the reason audited) when it cannot go out that way."""
    client = accounts.client()
    author = article_author()
    try:
        if not author:
            raise zerr.Permanent(None, "no OA or province name for the article's author")
        token = accounts.call_with_token(
            lambda t: client.create_article(
                t,
                b.title[:ARTICLE_TITLE_MAX],
                message_text(b),
                author=author,
                description=b.body[:ARTICLE_DESCRIPTION_MAX],
                cover_photo_url=article_cover_url(),
            )
        )
        article_id = None
        for _attempt in range(20):
            article_id = accounts.call_with_token(lambda t: client.verify_article(t, token))
            if article_id:
                break
            time.sleep(0.5)
        if not article_id:
            raise zerr.TransportFailure(None, "the article was still being processed after 10 s")
        if stopping.is_cancelled(b.pk):
            return True  # cancelled meanwhile: nothing to send (and nobody to send to per follower)
        accounts.call_with_token(lambda t: client.broadcast_article(t, article_id))
    except zerr.ZaloError as exc:  # night ban, quota, anything: fall back to per-follower messages
        logger.info("article broadcast not possible (%s); sending per follower", exc.__class__.__name__)
        services.record_article_fallback(
            b.pk,
            _("Không gửi được dạng bài viết (%(error)s); chuyển sang gửi từng người quan tâm.") % {"error": exc},
        )
        return False
    services.record_article_sent(b.pk, audience(b).count())
    return True


class Stopped(Exception):
    """The broadcast was cancelled: this recipient is not sent."""


CLAIM = 20  # rows claimed per statement: few enough that a killed worker leaves little to reconcile


def _claim(pks):
    """pending → sending for those of `pks` still pending, only while the broadcast is still sending.

    A compare-and-set on each row, in one short transaction (rows another worker holds are skipped);
    returns the claimed rows with their followers, in order."""
    with transaction.atomic():
        ids = list(
            Recipient.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=pks, status=Recipient.Status.PENDING, broadcast__state=State.SENDING)
            .values_list("pk", flat=True)
        )
        if ids:
            Recipient.objects.filter(pk__in=ids, status=Recipient.Status.PENDING).update(
                status=Recipient.Status.SENDING, claimed_at=timezone.now(), error=""
            )
    return list(Recipient.objects.select_related("follower").filter(pk__in=ids).order_by("pk")) if ids else []


def _set(pk, expected, **changes):
    """Compare-and-set: change the row only if it is still in one of the `expected` states."""
    return Recipient.objects.filter(pk=pk, status__in=expected).update(**changes)


def broadcast_template(account):
    """(template_id, parameters) of the province's approved broadcast template (registered, or the account's)."""
    return template_for("broadcast", "template", account)


def template_data(text, params=None):
    """The template's parameters filled from the broadcast's text, each within its own maximum."""
    if params is None:
        params = broadcast_template(accounts.current_account())[1]
    return build(params, {"title": text, "content": text})


def _send_one(recipient, text, template_id, bucket, token, stopped, params=None):
    """Send to one follower → (channel, Zalo's message id); `stopped()` is asked right before each send."""
    client = accounts.client()
    follower = recipient.follower
    window = timedelta(days=settings.ZALO_CS_WINDOW_DAYS)
    recent = follower.last_interaction_at and timezone.now() - follower.last_interaction_at < window
    data = template_data(text, params) if template_id else {}
    for attempt in range(MAX_RATE_LIMIT_RETRIES + 1):
        bucket.take()
        try:
            if recent:
                try:
                    if stopped():
                        raise Stopped
                    return "cs", token.call(lambda t: client.send_cs_message(t, follower.user_id, text))
                except zerr.NotInteracted:
                    recent = False
            if not template_id:
                raise zerr.Permanent(None, "no broadcast template configured for template messages")
            if stopped():
                raise Stopped
            return "template", token.call(
                lambda t: client.send_template_message(t, follower.user_id, template_id, data)
            )
        except zerr.RateLimited:
            time.sleep(min(2**attempt, 30) * 0.5)
    raise zerr.RateLimited(-32, "still rate limited after retries")


def send_batch(broadcast_id, recipient_ids):
    """Send to these recipients one by one: claim (compare-and-set), check the cancellation flag, send,
    record (compare-and-set). A lost answer leaves the row uncertain, to be reconciled, never resent."""
    sent, sending, uncertain = Recipient.Status.SENT, Recipient.Status.SENDING, Recipient.Status.UNCERTAIN
    b = Broadcast.objects.get(pk=broadcast_id)
    account = accounts.current_account()
    if account is None:
        Recipient.objects.filter(pk__in=recipient_ids, status=Recipient.Status.PENDING).update(
            status=Recipient.Status.FAILED, error=_("Tỉnh chưa cấu hình tài khoản Zalo OA.")
        )
        finish_if_done(broadcast_id)
        return
    template_id, params = broadcast_template(account)
    rate = BroadcastSettings.current().rate_per_minute
    bucket = TokenBucket(tenant_key("bucket", account.oa_id), rate)
    text = message_text(b)
    token = accounts.TokenSession()

    def stopped():
        return stopping.is_cancelled(broadcast_id)

    pks = sorted(recipient_ids)
    claimed = []  # claimed by this worker and not yet sent
    for pk in pks:
        if not claimed:
            if stopped():
                break
            # Rows already sent, taken by another worker, skipped, or of a broadcast no longer sending
            # are not claimed.
            claimed = _claim([p for p in pks if p >= pk][:CLAIM])
            if not claimed:
                continue
        if claimed[0].pk != pk:
            continue
        recipient = claimed.pop(0)
        try:
            channel, message_id = _send_one(recipient, text, template_id, bucket, token, stopped, params)
        except Stopped:
            Recipient.objects.filter(pk__in=[pk, *(r.pk for r in claimed)], status=sending).update(
                status=Recipient.Status.SKIPPED
            )
            claimed = []
            break
        except zerr.TransportFailure as exc:  # Zalo may have accepted it: find out before any resend
            _set(pk, [sending], status=uncertain, error=str(exc)[:300])
            continue
        except zerr.ZaloError as exc:  # Zalo answered with a refusal: nothing went out
            _set(pk, [sending], status=Recipient.Status.FAILED, error=str(exc)[:300])
            continue
        # It went out: record it even if the reaper has meanwhile taken the row for uncertain.
        fields = {"channel": channel, "message_id": message_id, "sent_at": timezone.now(), "error": ""}
        if not _set(pk, [sending, uncertain, Recipient.Status.PENDING], status=sent, **fields):
            logger.warning("broadcast %s recipient %s: sent, but the row had moved on", broadcast_id, pk)
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

    A recipient left "sending" by a killed worker, or whose answer was lost, may or may not have
    received the warning: it becomes uncertain, and after a while it is reconciled against the OA's
    conversation with that follower (`reconcile`) — sent if the message is there, queued again only if
    it is not, failed visibly if nobody can tell. Pending recipients of a broadcast still sending are
    queued again. Returns {broadcast id: [batches]}.
    """
    now = now or timezone.now()
    stale = timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
    confirm = timedelta(seconds=settings.NOTIFICATION_CONFIRM_SECONDS)
    live = Recipient.objects.filter(broadcast__state__in=(State.SENDING, State.CANCELLED))
    live.filter(status=Recipient.Status.SENDING, claimed_at__lt=now - stale).update(status=Recipient.Status.UNCERTAIN)
    doubtful = live.filter(status=Recipient.Status.UNCERTAIN, claimed_at__lt=now - confirm)
    for recipient in doubtful.select_related("follower", "broadcast").order_by("pk")[:RECONCILE_PER_RUN]:
        reconcile(recipient, give_up=recipient.claimed_at < now - stale - confirm * GIVE_UP_AFTER_CONFIRMS)
    work = {}
    for b in Broadcast.objects.filter(state=State.SENDING, started_at__lt=now - stale):
        ids = list(Recipient.objects.filter(broadcast=b, status=Recipient.Status.PENDING).values_list("pk", flat=True))
        if ids:
            work[b.pk] = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        else:
            finish_if_done(b.pk)
    return work


RECONCILE_PER_RUN = 500  # conversation lookups per beat run (each is one Zalo request)
GIVE_UP_AFTER_CONFIRMS = 10  # lookups failing this long: the row fails, visibly, and is never resent
CLOCK_SKEW_MS = 5000
CONVERSATION_PAGES = 5  # of 10 messages: how far back a lookup goes


def _is_ours(item, text, since_ms):
    """A message of the OA to this follower, after the claim, with this broadcast's text."""
    try:
        at = int(item.get("time") or 0)
    except (TypeError, ValueError):
        return False
    if str(item.get("src")) != "0" or at < since_ms - CLOCK_SKEW_MS:
        return False
    shown = str(item.get("message") or "")
    if item.get("type") == "template":
        wanted = [str(v) for v in template_data(text).values() if str(v).strip()]
        return bool(wanted) and all(v in shown for v in wanted)
    return shown == text


def _look_up(client, user_id, text, since_ms):
    """Page back through the conversation (newest first) until the message or the claim time."""
    for page in range(CONVERSATION_PAGES):
        items = accounts.call_with_token(lambda t, offset=page * 10: client.conversation(t, user_id, offset=offset))
        found = next((item for item in items if _is_ours(item, text, since_ms)), None)
        if found is not None:
            return found
        times = [int(item["time"]) for item in items if str(item.get("time", "")).isdigit()]
        if len(items) < 10 or (times and min(times) < since_ms - CLOCK_SKEW_MS):
            return None
    raise zerr.RetryLater(None, "the conversation goes back further than the lookup reads")


def reconcile(recipient, give_up=False):
    """Did Zalo accept the uncertain send? Looks in the OA's conversation with the follower.

    Found → sent (with Zalo's message id); not there → pending again (or skipped if the broadcast was
    cancelled); the lookup failing → left uncertain, or failed once `give_up` (never resent on a guess).
    Every change is a compare-and-set from "uncertain". Returns the new status, or None if unchanged.
    """
    uncertain = [Recipient.Status.UNCERTAIN]
    client = accounts.client()
    text = message_text(recipient.broadcast)
    since_ms = int(recipient.claimed_at.timestamp() * 1000) if recipient.claimed_at else 0
    try:
        found = _look_up(client, recipient.follower.user_id, text, since_ms)
    except zerr.ZaloError as exc:
        if give_up and _set(
            recipient.pk,
            uncertain,
            status=Recipient.Status.FAILED,
            error=_("Không xác định được tin đã đến người nhận hay chưa (%(error)s); không gửi lại.") % {"error": exc},
        ):
            return Recipient.Status.FAILED
        return None
    if found is not None:
        channel = "template" if found.get("type") == "template" else "cs"
        fields = {"channel": channel, "message_id": str(found.get("message_id") or ""), "sent_at": timezone.now()}
        fields["error"] = ""
        return Recipient.Status.SENT if _set(recipient.pk, uncertain, status=Recipient.Status.SENT, **fields) else None
    again = Recipient.Status.PENDING if recipient.broadcast.state == State.SENDING else Recipient.Status.SKIPPED
    return again if _set(recipient.pk, uncertain, status=again) else None


def record_receipt(message_id, delivered_at):
    """Zalo delivered the message with this id: confirms the one recipient row that sent it.

    Matched by Zalo's message id only — a receipt for another message to the same user (a dossier
    notice) confirms nothing here."""
    if not message_id:
        return 0
    return Recipient.objects.filter(
        message_id=str(message_id),
        status__in=(Recipient.Status.UNCERTAIN, Recipient.Status.SENDING),
    ).update(status=Recipient.Status.SENT, sent_at=delivered_at)
