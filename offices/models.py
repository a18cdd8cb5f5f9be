from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .phones import normalize_phone, validate_phone

department_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9._-]{0,31}$",
    _("Mã phòng ban chỉ gồm chữ in hoa không dấu, chữ số, dấu chấm, “-” hoặc “_”."),
)


class Department(models.Model):
    """Sở, ban, ngành or phòng: a unit that receives or processes dossiers."""

    code = models.CharField(_("mã"), max_length=32, unique=True, validators=[department_code_validator])
    name = models.CharField(_("tên"), max_length=200)
    short_name = models.CharField(_("tên viết tắt"), max_length=60, blank=True)
    is_reception = models.BooleanField(
        _("là bộ phận một cửa"), default=False, help_text=_("Nơi tiếp nhận và trả kết quả hồ sơ.")
    )
    is_active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = _("phòng ban")
        verbose_name_plural = _("phòng ban")
        ordering = ["code"]

    def __str__(self):
        return self.short_name or self.name


class Officer(models.Model):
    """Cán bộ: the profile of one of this province's user accounts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer", verbose_name=_("tài khoản")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="officers", verbose_name=_("phòng ban")
    )
    title = models.CharField(_("chức danh"), max_length=120, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=20, blank=True, validators=[validate_phone])

    class Meta:
        verbose_name = _("cán bộ")
        verbose_name_plural = _("cán bộ")
        ordering = ["department__code", "user__last_name", "user__first_name"]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        if self.phone:
            self.phone = normalize_phone(self.phone)
        super().save(*args, **kwargs)

    def clean(self):
        if self.phone:
            self.phone = normalize_phone(self.phone)

    @property
    def full_name(self):
        # Vietnamese order: family and middle names (last_name) before the given name (first_name).
        full = " ".join(part for part in (self.user.last_name, self.user.first_name) if part)
        return full or self.user.get_username()

    @property
    def roles(self):
        from .roles import roles_of

        return roles_of(self.user)
