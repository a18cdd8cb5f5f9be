"""Fixed-window rate limits in Redis, shared by every web process.

Keys carry the province's schema, so one province's rush never throttles another's citizens.
"""

import ipaddress
import time
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from ipware import get_client_ip

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


def window_key(scope: str, identity: str, rate: Rate) -> tuple[str, int]:
    """The counter's key in the current window and the seconds left in it: for a caller that reads the
    count together with other keys (one round trip); `peek` is the same check on its own."""
    return _key(scope, identity, rate)


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
    """The caller's address, as the rate limits count it.

    With ``TRUSTED_PROXY_COUNT = 0`` (the default) that is ``REMOTE_ADDR``. Behind ``n`` trusted
    proxies it is the address the outermost of them saw: the n-th ``X-Forwarded-For`` entry from the
    right, found by django-ipware; anything the client wrote to the left of it is ignored. An IPv6
    address stands for its /64, which one subscriber usually holds whole.
    """
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    meta = request.META
    return _identity(proxies, meta.get("HTTP_X_FORWARDED_FOR") if proxies > 0 else None, meta.get("REMOTE_ADDR"))


@lru_cache(maxsize=4096)
def _identity(proxies: int, forwarded: str | None, remote: str | None) -> str:
    """`client_address` of the two headers it reads, remembered: django-ipware's parsing costs more than a
    cached QR page (the answer depends on nothing else; ipware's settings are cleared below when changed)."""
    meta = {
        name: value
        for name, value in (("HTTP_X_FORWARDED_FOR", forwarded), ("REMOTE_ADDR", remote))
        if value is not None
    }
    request = SimpleNamespace(META=meta)
    address = None
    if proxies > 0:
        # ipware counts the proxy addresses listed after the client; the proxy nearest us is REMOTE_ADDR.
        address, _routable = get_client_ip(
            request, proxy_count=proxies - 1, request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False
        )
    if address is None:
        address, _routable = get_client_ip(request, proxy_count=0, request_header_order=["REMOTE_ADDR"])
    return address_identity(address)


@receiver(setting_changed)
def _forget_identities(setting, **kwargs):
    if setting.startswith("IPWARE_"):
        _identity.cache_clear()


def address_identity(address) -> str:
    """What one client is counted as: an IPv4 address, an IPv6 /64, or "unknown"."""
    try:
        ip = ipaddress.ip_address(str(address or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# --- lockouts: an allowance of failures per identity, then growing lockout windows ----------------

# KEYS[1] lock, KEYS[2] level (also the generation of the failure counter). ARGV[1] counter key prefix,
# ARGV[2] allowance, ARGV[3] counter TTL ms, ARGV[4] level TTL ms, ARGV[5] generation and ARGV[6] count
# of a failed attempt, ARGV[7..] lockout windows ms.
_LOCK_FUNCTIONS = """
local function lock()
  local level = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  local window = tonumber(ARGV[6 + math.min(level, #ARGV - 6)])
  redis.call('SET', KEYS[1], level, 'PX', window)
  return {0, window, level}
end
local function generation()
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
"""
# Count the attempt first; refused while locked, and once the count passes the allowance (which locks).
_ATTEMPT = (
    _LOCK_FUNCTIONS
    + """
local locked = redis.call('PTTL', KEYS[1])
if locked > 0 then return {0, locked, -1} end
local gen = generation()
local counter = ARGV[1] .. ':' .. gen
local n = redis.call('INCR', counter)
if n == 1 then redis.call('PEXPIRE', counter, ARGV[3]) end
if n <= tonumber(ARGV[2]) then return {1, n, gen} end
return lock()
"""
)
# A failed attempt: the allowance's last one locks at once (once per generation).
_FAILED = (
    _LOCK_FUNCTIONS
    + """
if tonumber(ARGV[6]) < tonumber(ARGV[2]) then return {1, 0, -1} end
if generation() ~= tonumber(ARGV[5]) or redis.call('PTTL', KEYS[1]) > 0 then return {1, 0, -1} end
return lock()
"""
)
# A successful attempt does not count as a failure.
_SUCCEEDED = """
local counter = ARGV[1] .. ':' .. ARGV[2]
local n = tonumber(redis.call('GET', counter) or '0')
if n > 0 then redis.call('DECR', counter) end
return n
"""


@dataclass(frozen=True)
class Lockout:
    """`allowance` failures, then locked for windows[0], windows[1], … (the last one repeats)."""

    allowance: int
    windows: tuple[int, ...]  # seconds
    counter_ttl: int = 86400
    level_ttl: int = 30 * 86400


@dataclass(frozen=True)
class Attempt:
    allowed: bool
    retry_after: int = 0  # seconds, when refused
    scope: str = ""
    identity: str = ""
    generation: int = 0
    count: int = 0


def _lock_keys(scope, identity):
    return tenant_key("lock", scope, identity), tenant_key("lock-level", scope, identity)


def _counter_prefix(scope, identity):
    return tenant_key("lock-fails", scope, identity)


def _lock_args(scope, identity, policy, generation=0, count=0):
    prefix = _counter_prefix(scope, identity)
    head = [prefix, policy.allowance, policy.counter_ttl * 1000, policy.level_ttl * 1000, generation, count]
    return head + [w * 1000 for w in policy.windows]


def _seconds(ms):
    return max(1, -(-int(ms) // 1000))


def attempt(scope: str, identity: str, policy: Lockout) -> Attempt:
    """Count one attempt atomically BEFORE it is checked; refused while locked or over the allowance."""
    keys = _lock_keys(scope, identity)
    allowed, value, generation = client().eval(_ATTEMPT, 2, *keys, *_lock_args(scope, identity, policy))
    if not allowed:
        return Attempt(False, _seconds(value), scope, identity)
    return Attempt(True, 0, scope, identity, int(generation), int(value))


def failed(attempt: Attempt, policy: Lockout) -> int:
    """The attempt failed; the allowance's last failure locks the identity now. Returns the lock's seconds or 0."""
    keys = _lock_keys(attempt.scope, attempt.identity)
    args = _lock_args(attempt.scope, attempt.identity, policy, attempt.generation, attempt.count)
    allowed, value, _level = client().eval(_FAILED, 2, *keys, *args)
    return 0 if allowed else _seconds(value)


def succeeded(attempt: Attempt) -> None:
    """The attempt succeeded: it does not count against the allowance."""
    prefix = _counter_prefix(attempt.scope, attempt.identity)
    client().eval(_SUCCEEDED, 0, prefix, attempt.generation)


def locked_for(scope: str, identity: str) -> int:
    """Seconds left of the identity's current lockout (0: not locked)."""
    ttl = client().pttl(_lock_keys(scope, identity)[0])
    return _seconds(ttl) if ttl and ttl > 0 else 0
