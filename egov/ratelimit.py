"""Fixed-window rate limits in Redis, shared by every web process.

Keys carry the province's schema, so one province's rush never throttles another's citizens.
"""

import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection


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


@lru_cache(maxsize=4)
def _client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def client():
    return _client(settings.REDIS_URL)


def _key(scope, identity, rate):
    window_start = int(time.time()) // rate.window
    return f"rl:{connection.schema_name}:{scope}:{identity}:{window_start}", rate.window - int(
        time.time()
    ) % rate.window


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
