"""Broadcasts (tin cảnh báo, thông báo) to the followers of the province's Zalo OA."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from offices.models import Officer
from zalo.models import Follower


class Category(models.TextChoices):
    STORM_FLOOD = "storm_flood", _("Bão, lũ")
    EPIDEMIC = "epidemic", _("Dịch bệnh")
    UTILITY_CUT = "utility_cut", _("Cắt điện, nước")
    RECEPTION = "reception", _("Lịch tiếp công dân")
    POLICY = "policy", _("Chính sách mới")
    OTHER = "other", _("Khác")


class Severity(models.TextChoices):
    INFORMATION = "information", _("Thông tin")
    WARNING = "warning", _("Cảnh báo")
    EMERGENCY = "emergency", _("Khẩn cấp")


class State(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    SUBMITTED = "submitted", _("Chờ duyệt")
    APPROVED = "approved", _("Đã duyệt")
    SENDING = "sending", _("Đang gửi")
    SENT = "sent", _("Đã gửi")
    REJECTED = "rejected", _("Bị từ chối")
    CANCELLED = "cancelled", _("Đã hủy")
    FAILED = "failed", _("Gửi lỗi")


class BroadcastSettings(models.Model):
    """The province's broadcast rules (one row), changed only by `broadcasts.services`.

    "Emergency alone" is turned on by the national operator, or by a second province admin approving
    another's request; anyone of them may turn it off. Every change is in `SettingsAuditEntry`.
    """

    allow_emergency_alone = models.BooleanField(
        _("cho phép một quản trị gửi tin khẩn cấp"),
        default=False,
        help_text=_("Chỉ với tin Khẩn cấp, phải ghi lý do; mỗi lần gửi đều được ghi nhật ký."),
    )
    rate_per_minute = models.PositiveIntegerField(
        _("giới hạn gửi mỗi phút"), default=4000, help_text=_("Theo giới hạn của Zalo: 4.000 yêu cầu/phút/ứng dụng.")
    )
    emergency_alone_requested_by = models.ForeignKey(
        Officer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người đề nghị bật gửi khẩn cấp một người"),
    )
    emergency_alone_requested_at = models.DateTimeField(_("đề nghị lúc"), null=True, blank=True)
    emergency_alone_request_reason = models.TextField(_("lý do đề nghị"), blank=True)
    version = models.PositiveIntegerField(_("phiên bản"), default=0)

    class Meta:
        verbose_name = _("cấu hình tin cảnh báo")
        verbose_name_plural = _("cấu hình tin cảnh báo")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls):
        return cls.objects.order_by("pk").first() or cls()


class Broadcast(models.Model):
    category = models.CharField(_("loại tin"), max_length=20, choices=Category.choices)
    severity = models.CharField(_("mức độ"), max_length=20, choices=Severity.choices)
    title = models.CharField(_("tiêu đề"), max_length=150)
    body = models.TextField(_("nội dung"), max_length=1500)
    link = models.URLField(_("đường dẫn"), blank=True)
    all_wards = models.BooleanField(_("gửi mọi người quan tâm"), default=True)
    wards = models.JSONField(_("phường, xã nhận tin"), default=list, blank=True)
    scheduled_at = models.DateTimeField(
        _("gửi lúc"), null=True, blank=True, help_text=_("Để trống: gửi ngay khi duyệt.")
    )
    expires_at = models.DateTimeField(_("hết hiệu lực lúc"))
    state = models.CharField(_("trạng thái"), max_length=12, choices=State.choices, default=State.DRAFT)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("đính chính/hủy cho tin"),
    )
    created_by = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="+", verbose_name=_("người soạn"))
    created_at = models.DateTimeField(_("soạn lúc"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("trình duyệt lúc"), null=True, blank=True)
    approved_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("người duyệt")
    )
    approved_at = models.DateTimeField(_("duyệt lúc"), null=True, blank=True)
    decision_reason = models.TextField(_("lý do"), blank=True)
    emergency_alone = models.BooleanField(_("gửi khẩn cấp một người"), default=False)
    delivery_mode = models.CharField(_("cách gửi"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("bắt đầu gửi"), null=True, blank=True)
    finished_at = models.DateTimeField(_("gửi xong"), null=True, blank=True)
    total_recipients = models.PositiveIntegerField(_("số người nhận"), default=0)
    # Bumped by every service action: a form carries the version it was read at, and a stale save is refused.
    version = models.PositiveIntegerField(_("phiên bản"), default=0)

    class Meta:
        verbose_name = _("tin cảnh báo, thông báo")
        verbose_name_plural = _("tin cảnh báo, thông báo")
        ordering = ["-created_at"]
        permissions = [("approve_broadcast", _("Duyệt, từ chối, hủy tin cảnh báo"))]

    def __str__(self):
        return self.title

    def clean(self):
        if not self.all_wards and not self.wards:
            raise ValidationError(_("Chọn ít nhất một phường, xã hoặc gửi cho mọi người quan tâm."))


class Recipient(models.Model):
    """One follower of one broadcast: the unique key that makes every send happen at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ gửi")
        SENDING = "sending", _("Đang gửi")
        UNCERTAIN = "uncertain", _("Chờ xác nhận")
        SENT = "sent", _("Đã gửi")
        FAILED = "failed", _("Lỗi")
        SKIPPED = "skipped", _("Bỏ qua")

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    follower = models.ForeignKey(Follower, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    channel = models.CharField(max_length=10, blank=True)
    message_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["broadcast", "follower"], name="broadcast_recipient_once")]
        # message_id: each delivery receipt finds its row by Zalo's message id (no table scan per receipt).
        indexes = [models.Index(fields=["broadcast", "status"]), models.Index(fields=["message_id"])]

    def __str__(self):
        return f"{self.broadcast_id}:{self.follower_id}"


class AuditEntry(models.Model):
    """Append-only record of who did what to a broadcast (emergency single-admin sends included).

    Written only by `broadcasts.services`; the database refuses UPDATE and DELETE. The "edit" entries
    name everyone who changed the content, whom the two-person rule keeps from approving it.
    """

    broadcast = models.ForeignKey(Broadcast, on_delete=models.PROTECT, related_name="audit")
    actor = models.ForeignKey(Officer, on_delete=models.PROTECT, null=True, related_name="+")
    action = models.CharField(max_length=30)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.action} {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Nhật ký tin cảnh báo không được sửa."))
        super().save(*args, **kwargs)


class SettingsAuditEntry(models.Model):
    """Append-only record of every change to the province's broadcast settings (and requests for one)."""

    actor = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("người thực hiện")
    )
    actor_name = models.CharField(_("người thực hiện"), max_length=150)
    action = models.CharField(_("thao tác"), max_length=40)
    note = models.TextField(_("ghi chú"), blank=True)
    at = models.DateTimeField(_("lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("nhật ký cấu hình tin cảnh báo")
        verbose_name_plural = _("nhật ký cấu hình tin cảnh báo")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.action} {self.at:%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Nhật ký cấu hình tin cảnh báo không được sửa."))
        super().save(*args, **kwargs)
