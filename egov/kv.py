"""One shared Redis client per process, and keys that carry the province's schema.

Django's RedisCache builds a new client object on every call (~0.2 ms each); hot paths such as
the QR status page use this shared client and store plain bytes instead.
"""

from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection


@lru_cache(maxsize=4)
def _client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


def tenant_key(*parts) -> str:
    """A key in the current province's namespace: "<schema>:<part>:<part>…"."""
    return ":".join([connection.schema_name, *map(str, parts)])
