"""What a Zalo answer means for the sender: one exception class per decision.

Zalo answers errors with HTTP 200 and a negative ``error`` (docs/zalo-api.md, "Error codes that
change what the sender does"). :data:`ERROR_TABLE` is the single mapping from code to exception
class; :func:`error_for` uses it and sends every unknown negative code to :class:`Permanent`.

Decision tree for a caller::

    TokenInvalid   → refresh the OA token once, retry once, then alert a person
    RetryLater     → back off and retry (``retry_after`` seconds is a hint); subclasses:
                     TransportFailure (timeout, connection, non-200, garbage body),
                     RateLimited (−32), QuotaExceeded (−211, −115, −144, −218: retry after the reset
                     or fall back to another channel)
    NightBan       → reschedule to ``retry_at`` (06:00 Asia/Ho_Chi_Minh); NOT a RetryLater, so a
                     generic short back-off never hammers Zalo all night
    NotInteracted  → permanent for a CS message; send a template instead
    NotFollower    → permanent for this channel; try ZNS by phone
    Permanent      → bad data, a bug, or the citizen refused/blocked us: never retry
                     (OAuthRejected: the OAuth endpoint refused; a person must re-authorise the OA)
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import ClassVar

# Việt Nam has no daylight-saving time: Asia/Ho_Chi_Minh is UTC+07:00 all year.
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
NIGHT_START = time(22, 0)
NIGHT_END = time(6, 0)


def _local(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:  # naive datetimes are read as UTC
        now = now.replace(tzinfo=UTC)
    return now.astimezone(VN_TZ)


def next_six_am(now: datetime | None = None) -> datetime:
    """The next 06:00 in Asia/Ho_Chi_Minh strictly after ``now`` (aware; naive ``now`` is read as UTC)."""
    local = _local(now)
    six = local.replace(hour=6, minute=0, second=0, microsecond=0)
    if local >= six:
        six += timedelta(days=1)
    return six


def next_midnight(now: datetime | None = None) -> datetime:
    """The next 00:00 in Asia/Ho_Chi_Minh (when Zalo's daily quotas reset)."""
    local = _local(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def in_night_ban(now: datetime | None = None) -> bool:
    """True between 22:00 and 06:00 Asia/Ho_Chi_Minh, when broadcasts and ZNS are blocked."""
    t = _local(now).time()
    return t >= NIGHT_START or t < NIGHT_END


class ZaloError(Exception):
    """Base class. ``code`` is Zalo's negative error code, or None for local/transport failures."""

    retryable: ClassVar[bool] = False

    def __init__(self, code: int | None, message: str = "", *, http_status: int | None = None) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        super().__init__(f"Zalo error {code}: {message}" if code is not None else message)


class RetryLater(ZaloError):
    """Transient: retry after ``retry_after`` seconds (a hint)."""

    retryable = True
    default_retry_after: ClassVar[float] = 10.0

    def __init__(
        self, code: int | None, message: str = "", *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(code, message, http_status=http_status)
        self.retry_after = float(self.default_retry_after if retry_after is None else retry_after)


class TransportFailure(RetryLater):
    """Timeout, refused or dropped connection, non-200 HTTP status, or an answer that is not JSON."""

    default_retry_after = 5.0


class RateLimited(RetryLater):
    """−32: app or OA rate limit (about 4,000 requests/minute per app)."""

    default_retry_after = 60.0


class QuotaExceeded(RetryLater):
    """Out of quota; ``retry_after`` defaults to the next midnight in Việt Nam (daily reset)."""

    def __init__(
        self, code: int | None, message: str = "", *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        if retry_after is None:
            now = datetime.now(UTC)
            retry_after = max(60.0, (next_midnight(now) - now).total_seconds())
        super().__init__(code, message, http_status=http_status, retry_after=retry_after)


class NightBan(ZaloError):
    """−234 / −133: broadcast, template or ZNS refused at night; reschedule to ``retry_at``."""

    retryable = True

    def __init__(
        self, code: int | None, message: str = "", *, http_status: int | None = None, now: datetime | None = None
    ) -> None:
        super().__init__(code, message, http_status=http_status)
        current = now or datetime.now(UTC)
        self.retry_at = next_six_am(current)
        self.retry_after = max(0.0, (self.retry_at - _local(current)).total_seconds())


class TokenInvalid(ZaloError):
    """−216, −220, ZNS −124: access token invalid or expired; refresh once, retry once."""


class NotInteracted(ZaloError):
    """−230, −232: no interaction in the allowed window; permanent for CS, use a template."""


class NotFollower(ZaloError):
    """−213: the user does not follow the OA; permanent for this channel, try ZNS by phone."""


class Permanent(ZaloError):
    """Bad parameter/phone/template, or the user banned/blocked/refused us: never retry."""


class OAuthRejected(Permanent):
    """The OAuth endpoint refused the grant (dead refresh token, bad code or secret): re-authorise the OA."""


RATE_LIMIT = -32

# The one table. Every code in docs/zalo-api.md is here; anything else negative is Permanent.
ERROR_TABLE: dict[int, type[ZaloError]] = {
    # access token invalid / expired → refresh once, retry once
    -216: TokenInvalid,
    -220: TokenInvalid,
    -124: TokenInvalid,  # ZNS host
    # rate limit → back off
    RATE_LIMIT: RateLimited,
    # out of quota (OA, ZNS daily, per recipient) → retry after reset, or fall back
    -211: QuotaExceeded,
    -115: QuotaExceeded,
    -144: QuotaExceeded,
    -218: QuotaExceeded,
    # not a follower → try ZNS by phone
    -213: NotFollower,
    # no interaction in the window → use a template
    -230: NotInteracted,
    -232: NotInteracted,
    # night-time ban → reschedule to 06:00
    -234: NightBan,
    -133: NightBan,
    # bad parameter / phone / template / template data → never retry
    -201: Permanent,
    -108: Permanent,
    -109: Permanent,
    -111: Permanent,
    -112: Permanent,
    # user banned, blocked or refused this sender
    -227: Permanent,
    -217: Permanent,
    -139: Permanent,
    -141: Permanent,
    -244: Permanent,
}


def error_for(code: int, message: str = "", *, now: datetime | None = None) -> ZaloError:
    """The exception for a negative Zalo ``error`` code (unknown codes → :class:`Permanent`)."""
    cls = ERROR_TABLE.get(code, Permanent)
    if cls is NightBan:
        return NightBan(code, message, now=now)
    return cls(code, message)
