from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvincesConfig(AppConfig):
    name = "provinces"
    verbose_name = _("Tỉnh, thành phố")

    def ready(self):
        from . import signals  # noqa: F401 -- the tenant cache's evictions
