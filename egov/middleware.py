"""Tenant routing with a short in-process cache of host name → province.

django-tenants looks the domain up in the database on every request; under a rush of QR scans
that query is most of the work of a cached status page. Provinces and domains change rarely, so
each web process keeps the answer for TENANT_CACHE_SECONDS (0 disables the cache).
"""

import time

from django.conf import settings
from django_tenants.middleware.main import TenantMainMiddleware


class CachedTenantMiddleware(TenantMainMiddleware):
    _cache: dict = {}

    def get_tenant(self, domain_model, hostname):
        ttl = getattr(settings, "TENANT_CACHE_SECONDS", 0)
        if ttl <= 0:
            return super().get_tenant(domain_model, hostname)
        now = time.monotonic()
        hit = self._cache.get(hostname)
        if hit is not None and hit[1] > now:
            return hit[0]
        tenant = super().get_tenant(domain_model, hostname)
        self._cache[hostname] = (tenant, now + ttl)
        return tenant

    @classmethod
    def clear(cls):
        cls._cache.clear()
