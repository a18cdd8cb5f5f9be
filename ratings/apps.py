from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "ratings"
    verbose_name = _("Đánh giá mức độ hài lòng")

    def ready(self):
        from . import reactions  # noqa: F401 -- connects the rating request to the return of the result
