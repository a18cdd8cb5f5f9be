"""Fixed-window rate limits in Redis, shared by every web process.

Keys carry the province's schema, so one province's rush never throttles another's citizens.
"""

import time
from dataclasses import dataclass

from django.conf import settings

from .kv import client, tenant_key


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """ "30/300" → 30 hits per 300 seconds."""
        limit, _, window = text.partition("/")
        return cls(int(limit), int(window or 60))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window ends (0 when allowed)


def _key(scope, identity, rate):
    now = int(time.time())
    return tenant_key("rl", scope, identity, now // rate.window), rate.window - now % rate.window


def peek(scope: str, identity: str, rate: Rate) -> Verdict:
    """Whether `identity` is still under the limit, without counting a hit."""
    key, remaining = _key(scope, identity, rate)
    count = int(client().get(key) or 0)
    return Verdict(count < rate.limit, 0 if count < rate.limit else max(remaining, 1))


def hit(scope: str, identity: str, rate: Rate) -> Verdict:
    """Count one hit; refused once the window's count exceeds the limit."""
    key, remaining = _key(scope, identity, rate)
    pipe = client().pipeline()
    pipe.incr(key)
    pipe.expire(key, rate.window + 1)
    count, _ = pipe.execute()
    if count > rate.limit:
        return Verdict(False, max(remaining, 1))
    return Verdict(True, 0)


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the proxy-set header when behind a trusted proxy."""
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        forwarded = request.META.get(header, "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")
