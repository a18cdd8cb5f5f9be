"""The province's Zalo Official Account, its followers, and what citizens send to it."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier
from notifications.template_data import SOURCES
from offices.models import Officer


class ZaloAccount(models.Model):
    """Tài khoản Zalo OA of this province (one row). Secrets are write-only in admin, never logged."""

    name = models.CharField(_("tên OA"), max_length=200, blank=True)
    app_id = models.CharField(_("app id"), max_length=64)
    oa_id = models.CharField(_("OA id"), max_length=64)
    app_secret = models.CharField(_("app secret"), max_length=256)
    oa_secret_key = models.CharField(_("OA secret key"), max_length=256, help_text=_("Dùng để kiểm chữ ký webhook."))
    access_token = models.TextField(_("access token"), blank=True)
    refresh_token = models.TextField(_("refresh token"), blank=True)
    access_token_expires_at = models.DateTimeField(_("access token hết hạn lúc"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("làm mới lúc"), null=True, blank=True)
    refresh_failed_at = models.DateTimeField(_("làm mới lỗi lúc"), null=True, blank=True)
    refresh_error = models.CharField(_("lỗi làm mới"), max_length=300, blank=True)
    template_receipt = models.CharField(_("mẫu: xác nhận tiếp nhận"), max_length=64, blank=True)
    template_supplement = models.CharField(_("mẫu: yêu cầu bổ sung"), max_length=64, blank=True)
    template_result_early = models.CharField(_("mẫu: có kết quả sớm"), max_length=64, blank=True)
    template_result_ready = models.CharField(_("mẫu: có kết quả"), max_length=64, blank=True)
    template_apology = models.CharField(_("mẫu: xin lỗi, hẹn lại"), max_length=64, blank=True)
    template_new_appointment = models.CharField(_("mẫu: hẹn lại ngày trả sau bổ sung"), max_length=64, blank=True)
    template_broadcast = models.CharField(_("mẫu: tin cảnh báo, thông báo"), max_length=64, blank=True)
    template_zalo_link = models.CharField(
        _("mẫu: báo có tài khoản Zalo đăng ký nhận tin hồ sơ"),
        max_length=64,
        blank=True,
        help_text=_("Gửi bằng ZNS đến số điện thoại của người nộp."),
    )
    is_active = models.BooleanField(_("đang dùng"), default=True)

    class Meta:
        verbose_name = _("tài khoản Zalo OA")
        verbose_name_plural = _("tài khoản Zalo OA")

    def __str__(self):
        return self.name or self.oa_id

    def __repr__(self):  # never print secrets or tokens
        return f"<ZaloAccount oa_id={self.oa_id!r}>"


class Follower(models.Model):
    """Người quan tâm OA: learned from follow/unfollow webhooks and from citizens writing to the OA."""

    user_id = models.CharField(_("mã người dùng Zalo"), max_length=64, unique=True)
    display_name = models.CharField(_("tên hiển thị"), max_length=200, blank=True)
    is_following = models.BooleanField(_("đang quan tâm"), default=False)
    followed_at = models.DateTimeField(_("quan tâm lúc"), null=True, blank=True)
    unfollowed_at = models.DateTimeField(_("bỏ quan tâm lúc"), null=True, blank=True)
    last_interaction_at = models.DateTimeField(_("tương tác gần nhất"), null=True, blank=True)

    class Meta:
        verbose_name = _("người quan tâm")
        verbose_name_plural = _("người quan tâm")
        ordering = ["-last_interaction_at"]

    def __str__(self):
        return self.display_name or self.user_id


class DossierLink(models.Model):
    """A Zalo account that proved (code + the applicant's full phone or ID number in chat) it may follow a dossier.

    At most `zalo.bot.MAX_LINKS_PER_DOSSIER` live links per dossier; each new one is announced to the
    applicant's phone. An officer removes a link (kept, with who removed it and when): no message
    about the dossier goes to that account afterwards.
    """

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="zalo_links", verbose_name=_("hồ sơ"))
    follower = models.ForeignKey(
        Follower, on_delete=models.CASCADE, related_name="dossier_links", verbose_name=_("tài khoản Zalo")
    )
    linked_at = models.DateTimeField(_("liên kết lúc"), auto_now_add=True)
    removed_at = models.DateTimeField(_("gỡ lúc"), null=True, blank=True)
    removed_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("người gỡ")
    )

    class Meta:
        verbose_name = _("tài khoản Zalo nhận tin hồ sơ")
        verbose_name_plural = _("tài khoản Zalo nhận tin hồ sơ")
        ordering = ["-linked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "follower"],
                condition=models.Q(removed_at__isnull=True),
                name="zalo_dossier_live_link_unique",
            )
        ]

    def __str__(self):
        return f"{self.dossier} ↔ {self.follower}"

    @property
    def is_live(self):
        return self.removed_at is None


class InboundEvent(models.Model):
    """A verified webhook event, stored before it is processed (idempotent on its dedupe key)."""

    dedupe_key = models.CharField(_("khóa chống trùng"), max_length=200, unique=True)
    event_name = models.CharField(_("tên sự kiện"), max_length=60)
    payload = models.JSONField(_("dữ liệu"))
    received_at = models.DateTimeField(_("nhận lúc"), auto_now_add=True)
    processed_at = models.DateTimeField(_("xử lý lúc"), null=True, blank=True)
    outcome = models.CharField(_("kết quả xử lý"), max_length=60, blank=True)
    error = models.TextField(_("lỗi"), blank=True)

    class Meta:
        verbose_name = _("sự kiện Zalo")
        verbose_name_plural = _("sự kiện Zalo")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_name} {self.dedupe_key}"


class CitizenQuestion(models.Model):
    """Hỏi đáp: a citizen's message the bot could not answer; an officer replies (as a CS message)."""

    class State(models.TextChoices):
        OPEN = "open", _("Chưa trả lời")
        ANSWERED = "answered", _("Đã trả lời")
        FAILED = "failed", _("Gửi trả lời lỗi")

    follower = models.ForeignKey(
        Follower, on_delete=models.PROTECT, related_name="questions", verbose_name=_("người quan tâm")
    )
    text = models.TextField(_("câu hỏi"))
    msg_id = models.CharField(_("mã tin Zalo"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("nhận lúc"))
    state = models.CharField(_("trạng thái"), max_length=10, choices=State.choices, default=State.OPEN)
    answer = models.TextField(_("trả lời"), blank=True)
    answered_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("cán bộ trả lời")
    )
    answered_at = models.DateTimeField(_("trả lời lúc"), null=True, blank=True)
    answer_error = models.CharField(_("lỗi gửi"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("câu hỏi của công dân")
        verbose_name_plural = _("hộp thư hỏi đáp")
        ordering = ["state", "-received_at"]

    def __str__(self):
        return self.text[:60]


class FollowerWard(models.Model):
    """A ward a follower cares about: chosen by chat ("DK <phường>") or from their linked dossiers."""

    class Source(models.TextChoices):
        CHAT = "chat", _("Đăng ký qua tin nhắn")
        DOSSIER = "dossier", _("Từ hồ sơ đã liên kết")

    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="wards")
    ward_code = models.CharField(_("mã phường, xã"), max_length=10)
    ward_name = models.CharField(_("tên phường, xã"), max_length=120)
    source = models.CharField(_("nguồn"), max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("phường, xã quan tâm")
        verbose_name_plural = _("phường, xã quan tâm")
        constraints = [
            models.UniqueConstraint(fields=["follower", "ward_code", "source"], name="zalo_follower_ward_unique")
        ]

    def __str__(self):
        return self.ward_name


class MessageTemplate(models.Model):
    """A template Zalo approved for this province's OA, registered with its parameters (issue 10.6).

    Template and ZNS messages send ``template_id`` + ``template_data``: each parameter is filled from
    one source field of the dossier (or of the broadcast) and held to its own maximum length
    (``notifications.template_data.build``). Checked when saved (``zalo.admin_templates``).
    """

    class Channel(models.TextChoices):
        TEMPLATE = "template", _("Tin mẫu theo mã người dùng Zalo")
        ZNS = "zns", _("ZNS theo số điện thoại")

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Xác nhận tiếp nhận")
        SUPPLEMENT = "supplement", _("Yêu cầu bổ sung")
        RESULT_EARLY = "result_early", _("Có kết quả sớm")
        RESULT_READY = "result_ready", _("Có kết quả")
        APOLOGY = "apology", _("Xin lỗi, hẹn lại ngày trả")
        NEW_APPOINTMENT = "new_appointment", _("Hẹn lại ngày trả sau bổ sung")
        ZALO_LINK = "zalo_link", _("Tài khoản Zalo đăng ký nhận tin hồ sơ")
        SUPPLEMENT_REFUSED = "supplement_refused", _("Giấy tờ bổ sung chưa được chấp nhận")
        BROADCAST = "broadcast", _("Tin cảnh báo, thông báo")
        RATING = "rating", _("Mời đánh giá mức độ hài lòng")

    channel = models.CharField(_("kênh"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("dùng cho loại tin"), max_length=20, choices=Kind.choices)
    template_id = models.CharField(_("mã mẫu (template_id)"), max_length=64)
    name = models.CharField(_("tên gọi"), max_length=200, blank=True)
    is_active = models.BooleanField(_("đang dùng"), default=True)

    class Meta:
        verbose_name = _("mẫu tin Zalo đã duyệt")
        verbose_name_plural = _("mẫu tin Zalo đã duyệt")
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind"], condition=models.Q(is_active=True), name="zalo_template_one_active_per_use"
            )
        ]

    def __str__(self):
        return f"{self.template_id} — {self.get_kind_display()} ({self.get_channel_display()})"


class TemplateParameter(models.Model):
    """One parameter of an approved template: its name at Zalo, where its value comes from, its maximum."""

    template = models.ForeignKey(MessageTemplate, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(_("tên tham số"), max_length=64)
    source = models.CharField(
        _("lấy từ"), max_length=20, choices=[(k, label) for k, (label, _cuttable) in SOURCES.items()]
    )
    max_length = models.PositiveIntegerField(_("dài tối đa (ký tự)"))

    class Meta:
        verbose_name = _("tham số mẫu tin")
        verbose_name_plural = _("tham số mẫu tin")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["template", "name"], name="zalo_template_param_unique")]

    def __str__(self):
        return self.name
