"""A token bucket in Redis shared by every worker: at most `rate_per_minute` sends per key.

The check-and-take is one Lua script, so concurrent workers on many machines never overspend.
"""

import time

from .kv import client

SCRIPT = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])       -- tokens per second
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'at', now)
redis.call('EXPIRE', key, math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


class TokenBucket:
    def __init__(self, key, rate_per_minute, burst_seconds=1.0):
        self.key = key
        self.rate = rate_per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self._script = client().register_script(SCRIPT)

    def try_take(self) -> float:
        """Take a token; returns 0 when taken, else the seconds to wait before asking again."""
        if self.rate <= 0:
            return 0.0
        return float(self._script(keys=[self.key], args=[self.rate, self.capacity, time.time()]))

    def take(self, timeout=60.0) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            wait = self.try_take()
            if wait <= 0:
                return True
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(min(wait, 1.0))
