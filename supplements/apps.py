from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplementsConfig(AppConfig):
    name = "supplements"
    verbose_name = _("Giấy tờ bổ sung gửi trực tuyến")
