"""Tenant routing with a short in-process cache of host name → province.

django-tenants looks the domain up in the database on every request; under a rush of QR scans
that query is most of the work of a cached status page. Provinces and domains change rarely, so
each web process keeps the answer for TENANT_CACHE_SECONDS (0 disables the cache).

With a thousand provinces the cache stays bounded (TENANT_CACHE_MAX_ENTRIES hosts, least recently
used dropped first; an unknown host is never stored) and correct: adding, renaming or removing a
domain or a province evicts its hosts in this process at once and in every other web process
through the local cache's Redis channel (provinces/signals.py). A process that lost the channel
looks every host up in the database until it is back (egov/localcache.py).

The same cache keeps other rarely changing data of a province that every intake reads (its primary
domain for the receipt's link, its working-day calendar): `cached(key, compute)`, with `forget(keys)`
called by whoever changes the rows (signals, in the writing transaction). A transaction that wrote
such rows reads them from the database until it commits (its own writes are not in the cache, and a
rolled-back write never gets there); after the commit every process drops the keys.
"""

import logging

from django.conf import settings
from django.db import connection, transaction
from django_tenants.middleware.main import TenantMainMiddleware
from redis.exceptions import RedisError

from .localcache import LocalCache

logger = logging.getLogger(__name__)
PREFIX = "tenant-host:"
PRIMARY_DOMAIN_PREFIX = "tenant-primary-domain:"  # + schema name: the host of the province's links
_cache: LocalCache | None = None


def tenant_cache() -> LocalCache:
    global _cache
    if _cache is None:
        _cache = LocalCache(
            max_entries=getattr(settings, "TENANT_CACHE_MAX_ENTRIES", 2048),
            ttl=getattr(settings, "TENANT_CACHE_SECONDS", 0),
        )
    return _cache


def _evict(keys):
    """Drop `keys` here and in every web process. Without Redis the other processes keep their copies
    until TENANT_CACHE_SECONDS run out (they also stop serving from memory once their listener loses
    the channel)."""
    try:
        tenant_cache().evict_everywhere(keys)
    except RedisError:
        tenant_cache().evict_local(keys)
        logger.warning("tenant cache: could not announce the eviction of %s", ", ".join(keys))


class _EvictAfterCommit:
    """The commit callback of `forget`; while it waits in `connection.run_on_commit`, its keys are
    this transaction's own writes (a rollback drops it with them)."""

    def __init__(self, keys):
        self.keys = frozenset(keys)

    def __call__(self):
        _evict(self.keys)


def forget(keys):
    """Rows behind `keys` change in the current transaction: dropped here and everywhere now and after
    the commit (other processes read the new rows then); until then this transaction bypasses them."""
    keys = [key for key in keys if key]
    if not keys:
        return
    _evict(keys)
    transaction.on_commit(_EvictAfterCommit(keys))


def _written_here(key) -> bool:
    """Whether the current transaction changed the rows behind `key` (not committed yet)."""
    return connection.in_atomic_block and any(
        isinstance(callback, _EvictAfterCommit) and key in callback.keys
        for _sids, callback, _robust in connection.run_on_commit
    )


def cached(key, compute):
    """`compute()` kept for TENANT_CACHE_SECONDS in this process (not when 0, not None), dropped by `forget`."""
    if getattr(settings, "TENANT_CACHE_SECONDS", 0) <= 0 or _written_here(key):
        return compute()
    cache = tenant_cache()
    value = cache.get(key)
    if value is None:
        generation = cache.generation  # before the read: an eviction arriving during it wins
        value = compute()
        if value is not None:
            cache.set(key, value, generation)
    return value


class CachedTenantMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        if getattr(settings, "TENANT_CACHE_SECONDS", 0) <= 0:
            return super().get_tenant(domain_model, hostname)
        cache = tenant_cache()
        tenant = cache.get(PREFIX + hostname)
        if tenant is None:
            tenant = super().get_tenant(domain_model, hostname)  # an unknown host raises: nothing stored
            cache.set(PREFIX + hostname, tenant)
        return tenant

    @classmethod
    def clear(cls):
        global _cache
        _cache = None
