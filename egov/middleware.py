"""Tenant routing with a short in-process cache of host name → province.

django-tenants looks the domain up in the database on every request; under a rush of QR scans
that query is most of the work of a cached status page. Provinces and domains change rarely, so
each web process keeps the answer for TENANT_CACHE_SECONDS (0 disables the cache).

With a thousand provinces the cache stays bounded (TENANT_CACHE_MAX_ENTRIES hosts, least recently
used dropped first; an unknown host is never stored) and correct: adding, renaming or removing a
domain or a province evicts its hosts in this process at once and in every other web process
through the local cache's Redis channel (provinces/signals.py). A process that lost the channel
looks every host up in the database until it is back (egov/localcache.py).
"""

import logging

from django.conf import settings
from django_tenants.middleware.main import TenantMainMiddleware
from redis.exceptions import RedisError

from .localcache import LocalCache

logger = logging.getLogger(__name__)
PREFIX = "tenant-host:"
_cache: LocalCache | None = None


def tenant_cache() -> LocalCache:
    global _cache
    if _cache is None:
        _cache = LocalCache(
            max_entries=getattr(settings, "TENANT_CACHE_MAX_ENTRIES", 2048),
            ttl=getattr(settings, "TENANT_CACHE_SECONDS", 0),
        )
    return _cache


def forget_hosts(hosts):
    """Drop these host names' provinces here and in every web process.

    Without Redis the other processes keep their copies until TENANT_CACHE_SECONDS run out (they
    also stop serving from memory once their listener loses the channel).
    """
    keys = [PREFIX + host for host in hosts if host]
    if not keys:
        return
    try:
        tenant_cache().evict_everywhere(keys)
    except RedisError:
        tenant_cache().evict_local(keys)
        logger.warning("tenant cache: could not announce the eviction of %s", ", ".join(hosts))


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
