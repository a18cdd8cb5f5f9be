"""The admin app with the province admin site as ``django.contrib.admin.site`` (strict changelist lookups)."""

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    default_site = "egov.admin_sites.ProvinceAdminSite"

    def ready(self):
        super().ready()
        from . import admin_booleans

        admin_booleans.install()  # yes/no icons read "Có"/"Không", not "True"/"False"
