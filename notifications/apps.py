from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Tin nhắn cho công dân")

    def ready(self):
        from . import reactions  # noqa: F401 - connects the outbox to dossier events
