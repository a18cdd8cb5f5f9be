"""The outbox: one row per message to a citizen, written in the same transaction as its cause."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, DossierEvent
from egov.inserts import CompiledInsert


class Kind(models.TextChoices):
    RECEIPT = "receipt", _("Xác nhận tiếp nhận")
    SUPPLEMENT = "supplement", _("Yêu cầu bổ sung")
    RESULT_EARLY = "result_early", _("Có kết quả sớm")
    RESULT_READY = "result_ready", _("Có kết quả")
    APOLOGY = "apology", _("Xin lỗi, hẹn lại ngày trả")
    NEW_APPOINTMENT = "new_appointment", _("Hẹn lại ngày trả sau bổ sung")
    ZALO_LINK = "zalo_link", _("Tài khoản Zalo đăng ký nhận tin hồ sơ")
    SUPPLEMENT_REFUSED = "supplement_refused", _("Giấy tờ bổ sung chưa được chấp nhận")
    RATING = "rating", _("Mời đánh giá mức độ hài lòng")


class Channel(models.TextChoices):
    CS = "cs", _("Tin tư vấn (CS)")
    TEMPLATE = "template", _("Tin mẫu theo mã người dùng Zalo")
    ZNS = "zns", _("ZNS theo số điện thoại")
    NONE = "none", _("Không có kênh")


class State(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    SENDING = "sending", _("Đang gửi")
    UNCERTAIN = "uncertain", _("Chờ xác nhận")
    SENT = "sent", _("Đã gửi")
    FAILED = "failed", _("Gửi lỗi")
    NO_CHANNEL = "no_channel", _("Không có kênh liên lạc")


class MessageText(models.Model):
    """The province's own wording of a message kind (defaults in notifications/texts.py)."""

    kind = models.CharField(_("loại tin"), max_length=20, choices=Kind.choices, unique=True)
    text = models.TextField(
        _("nội dung"),
        help_text=_("Có thể dùng {code}, {procedure}, {date}, {missing}, {officer}, {link}, {reason}."),
    )

    class Meta:
        verbose_name = _("nội dung tin nhắn")
        verbose_name_plural = _("nội dung tin nhắn")

    def __str__(self):
        return self.get_kind_display()


class Notification(CompiledInsert, models.Model):
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("hồ sơ")
    )
    event = models.ForeignKey(
        DossierEvent, on_delete=models.PROTECT, null=True, related_name="notifications", verbose_name=_("sự kiện")
    )
    kind = models.CharField(_("loại tin"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("trạng thái"), max_length=12, choices=State.choices, default=State.PENDING)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices, blank=True)
    recipient = models.CharField(_("người nhận"), max_length=64, blank=True)
    text = models.TextField(_("nội dung"))
    tracking_id = models.CharField(_("mã theo dõi"), max_length=48, unique=True)
    zalo_message_id = models.CharField(_("mã tin Zalo"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("số lần gửi"), default=0)
    next_attempt_at = models.DateTimeField(_("gửi lần tới"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("bắt đầu gửi lúc"), null=True, blank=True)
    deadline = models.DateTimeField(_("hạn gửi"))
    last_error = models.CharField(_("lỗi gần nhất"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    sent_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("đến máy lúc"), null=True, blank=True)
    seen_at = models.DateTimeField(_("đã xem lúc"), null=True, blank=True)
    # When the row last changed state (sent, failed, …): the day a message counts as sent or failed in
    # the statistics (reports), and the watermark their reconciliation reads from.
    state_changed_at = models.DateTimeField(_("đổi trạng thái lúc"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("tin nhắn")
        verbose_name_plural = _("tin nhắn cho công dân")
        ordering = ["-created_at"]
        constraints = [
            # A replayed event writes nothing new; a second supplement request is a new event.
            models.UniqueConstraint(fields=["event", "kind"], name="notification_once_per_event_kind"),
        ]
        # zalo_message_id: a delivery receipt finds its row by Zalo's message id (no table scan per receipt).
        indexes = [models.Index(fields=["state", "next_attempt_at"]), models.Index(fields=["zalo_message_id"])]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.dossier}"


class Attempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("lúc"), auto_now_add=True)
    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    outcome = models.CharField(_("kết quả"), max_length=20)
    error_code = models.IntegerField(_("mã lỗi"), null=True, blank=True)
    error = models.CharField(_("lỗi"), max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.outcome}"
