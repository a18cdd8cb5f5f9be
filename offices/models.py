from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .phones import normalize_phone, validate_phone

department_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9._-]{0,31}$",
    _("Mã phòng ban chỉ gồm chữ in hoa không dấu, chữ số, dấu chấm, “-” hoặc “_”."),
)


class PointKind(models.TextChoices):
    PROVINCE_CENTRE = "province_centre", _("Trung tâm phục vụ hành chính công tỉnh")
    WARD = "ward", _("Bộ phận một cửa phường, xã")


def validate_point_agency_code(value):
    from provinces.validators import validate_agency_code

    validate_agency_code(value)


class Department(models.Model):
    """Sở, ban, ngành or phòng: a unit that receives or processes dossiers.

    A reception point (điểm tiếp nhận: the province's public-service centre or a ward's one-stop shop)
    is a department with `is_reception`; it has its own QCVN 102 agency code (its dossiers' codes and
    daily sequence), kind, ward, address and opening hours."""

    code = models.CharField(_("mã"), max_length=32, unique=True, validators=[department_code_validator])
    name = models.CharField(_("tên"), max_length=200)
    short_name = models.CharField(_("tên viết tắt"), max_length=60, blank=True)
    is_reception = models.BooleanField(
        _("là bộ phận một cửa"), default=False, help_text=_("Nơi tiếp nhận và trả kết quả hồ sơ.")
    )
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    agency_code = models.CharField(
        _("mã định danh cơ quan"),
        max_length=20,
        blank=True,
        validators=[validate_point_agency_code],
        help_text=_("Dạng XXX.YY.ZZ.Hnn (QCVN 102:2016); mã hồ sơ tiếp nhận tại điểm này bắt đầu bằng mã này."),
    )
    point_kind = models.CharField(_("loại điểm tiếp nhận"), max_length=20, choices=PointKind.choices, blank=True)
    ward_code = models.CharField(
        _("mã phường, xã"),
        max_length=10,
        blank=True,
        help_text=_("Mã chính thức của phường, xã (để trống với trung tâm tỉnh)."),
    )
    address = models.CharField(_("địa chỉ"), max_length=300, blank=True)
    opening_hours = models.CharField(_("giờ làm việc"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("phòng ban")
        verbose_name_plural = _("phòng ban")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency_code"], condition=~models.Q(agency_code=""), name="department_agency_code_unique"
            )
        ]

    def __str__(self):
        return self.short_name or self.name

    @property
    def is_point(self):
        return self.is_reception and self.is_active

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.point_kind and not self.is_reception:
            errors["point_kind"] = _("Chỉ bộ phận một cửa mới là điểm tiếp nhận; hãy đánh dấu “là bộ phận một cửa”.")
        if self.point_kind == PointKind.WARD and not self.ward_code:
            errors["ward_code"] = _("Điểm tiếp nhận của phường, xã phải có mã phường, xã.")
        if self.ward_code:
            if self.point_kind != PointKind.WARD:
                errors["ward_code"] = _("Chỉ điểm tiếp nhận của phường, xã mới có mã phường, xã.")
            else:
                from provinces.selectors import current_province

                from .points import wards_of

                province = current_province()
                if str(self.ward_code).lstrip("0") not in dict(wards_of(province.admin_code)):
                    errors["ward_code"] = _(
                        "Mã phường, xã “%(code)s” không thuộc %(province)s (danh mục đơn vị hành chính hiện hành)."
                    ) % {"code": self.ward_code, "province": province.name}
                else:
                    self.ward_code = str(self.ward_code).lstrip("0")
        if self.agency_code:
            clash = Department.objects.filter(agency_code=self.agency_code).exclude(pk=self.pk).first()
            if clash is not None:
                errors["agency_code"] = _("Mã định danh cơ quan “%(code)s” đã được dùng cho “%(other)s”.") % {
                    "code": self.agency_code,
                    "other": clash.name,
                }
        if errors:
            raise ValidationError(errors)


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


class AccountAction(models.TextChoices):
    PASSWORD_RESET = "password_reset", _("Đặt lại mật khẩu")
    ROLES_CHANGED = "roles_changed", _("Đổi vai trò")
    ADMIN_ROLE_GRANTED = "admin_role_granted", _("Cấp vai trò quản trị tỉnh")
    REQUESTED = "requested", _("Đề nghị (chờ quản trị khác duyệt)")
    REJECTED = "rejected", _("Từ chối đề nghị")
    SECOND_FACTOR_ENROLLED = "otp_enrolled", _("Đăng ký xác thực hai bước")
    SECOND_FACTOR_RESET = "otp_reset", _("Gỡ thiết bị xác thực hai bước")
    RENAMED_BY_MERGE = "renamed", _("Đổi tên đăng nhập khi sáp nhập tỉnh")


class AccountAudit(models.Model):
    """Append-only record of every change to an officer's password, roles or second factor.

    `actor_name` and `approver_name` are kept as text as well: the national admin lives in the public
    schema and has no row in this province's user table.
    """

    created_at = models.DateTimeField(_("thời điểm"), auto_now_add=True, db_index=True)
    action = models.CharField(_("thao tác"), max_length=32, choices=AccountAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    actor_name = models.CharField(_("người thực hiện (tên)"), max_length=200)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tài khoản bị tác động"),
    )
    target_name = models.CharField(_("tài khoản bị tác động (tên)"), max_length=200)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người duyệt"),
    )
    approver_name = models.CharField(_("người duyệt (tên)"), max_length=200, blank=True)
    detail = models.CharField(_("chi tiết"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("nhật ký tài khoản")
        verbose_name_plural = _("nhật ký tài khoản")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target_name}"


class AccountRequest(models.Model):
    """A sensitive account change that one province admin asks for and a second one approves."""

    class Kind(models.TextChoices):
        GRANT_PROVINCE_ADMIN = "grant_province_admin", _("Cấp vai trò quản trị tỉnh")
        RESET_ADMIN_PASSWORD = "reset_admin_password", _("Đặt lại mật khẩu của quản trị tỉnh")

    class State(models.TextChoices):
        PENDING = "pending", _("Chờ duyệt")
        APPROVED = "approved", _("Đã duyệt")
        REJECTED = "rejected", _("Đã từ chối")

    kind = models.CharField(_("loại"), max_length=32, choices=Kind.choices)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("tài khoản")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("người đề nghị")
    )
    reason = models.CharField(_("lý do"), max_length=300)
    created_at = models.DateTimeField(_("thời điểm đề nghị"), auto_now_add=True)
    state = models.CharField(_("trạng thái"), max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người duyệt"),
    )
    decided_by_name = models.CharField(_("người duyệt (tên)"), max_length=200, blank=True)
    decided_at = models.DateTimeField(_("thời điểm duyệt"), null=True, blank=True)

    class Meta:
        verbose_name = _("đề nghị về tài khoản")
        verbose_name_plural = _("đề nghị về tài khoản")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=models.Q(state="pending"),
                name="one_pending_account_request_per_kind_and_target",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.target.get_username()}"


# --- django-axes' records, named in Vietnamese on the province admin --------------------------
# axes' models name themselves in English ("Access Log for …"); these proxies (no tables of their
# own) are what the admin registers instead (offices.admin).


def _moment(value):
    from django.utils import timezone

    return f"{timezone.localtime(value):%H:%M %d/%m/%Y}" if value else "—"


class LoginLockout(AccessAttempt):
    class Meta:
        proxy = True
        verbose_name = _("lần đăng nhập sai")
        verbose_name_plural = _("đăng nhập sai (khóa tài khoản)")

    def __str__(self):
        return _("%(user)s từ %(address)s: %(n)s lần sai, lần cuối %(when)s") % {
            "user": self.username or "—",
            "address": self.ip_address or "—",
            "n": self.failures_since_start,
            "when": _moment(self.attempt_time),
        }


class LoginRecord(AccessLog):
    class Meta:
        proxy = True
        verbose_name = _("lượt đăng nhập")
        verbose_name_plural = _("nhật ký đăng nhập")

    def __str__(self):
        return _("%(user)s đăng nhập lúc %(when)s") % {"user": self.username or "—", "when": _moment(self.attempt_time)}


class LoginFailure(AccessFailureLog):
    class Meta:
        proxy = True
        verbose_name = _("lần đăng nhập không thành công")
        verbose_name_plural = _("nhật ký đăng nhập không thành công")

    def __str__(self):
        return _("%(user)s từ %(address)s lúc %(when)s") % {
            "user": self.username or "—",
            "address": self.ip_address or "—",
            "when": _moment(self.attempt_time),
        }
