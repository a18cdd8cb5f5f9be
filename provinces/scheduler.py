"""Celery beat over the provinces that still work: a merged province's schema is frozen (its tables
refuse every write, provinces/merging.py), so the periodic tasks no longer run in it."""

from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler


class ActiveProvincesScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls):
        return super().get_queryset().filter(merged_into__isnull=True)
