from django_tenants.utils import get_public_schema_name

from .models import Province


def listed_provinces():
    """Provinces shown on the national landing page (the public schema row and merged provinces excluded)."""
    return (
        Province.objects.exclude(schema_name=get_public_schema_name())
        .filter(merged_into__isnull=True)
        .prefetch_related("domains")
        .order_by("name")
    )


def current_province() -> Province:
    """The province whose schema the connection is in, also under schema_context() (a bare tenant)."""
    from django.db import connection

    tenant = connection.tenant
    if isinstance(tenant, Province):
        return tenant
    return Province.objects.get(schema_name=connection.schema_name)
