"""Files a citizen sends online for an open supplement request (phiếu yêu cầu bổ sung): by Zalo chat
(`user_send_image`, `user_send_file`) or through the signed upload link.

A file is stored only after it passed the checks (`supplements.checks`): size, type from the content,
images re-encoded without their metadata. Files are never public: officers of the province with the
right role open them through the portal (each access audited), the citizen through the token link.
Every change of a file's state is made in `supplements.services`.
"""

import uuid

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, MissingComponent, SupplementRequest
from offices.models import Officer


def stored_name(instance, filename):
    """A random name under the province's own folder: nothing of the citizen's file name is kept in it."""
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(instance.content_type, "")
    return f"supplements/{connection.schema_name}/{uuid.uuid4().hex}{extension}"


class Source(models.TextChoices):
    CHAT = "chat", _("Gửi qua Zalo")
    LINK = "link", _("Tải lên qua liên kết")


class FileState(models.TextChoices):
    AWAITING_ITEM = "awaiting_item", _("Chờ công dân chọn giấy tờ")
    RECEIVED = "received", _("Chờ cán bộ xem xét")
    ACCEPTED = "accepted", _("Đã chấp nhận")
    REFUSED = "refused", _("Không chấp nhận")


class SupplementFile(models.Model):
    request = models.ForeignKey(
        SupplementRequest, on_delete=models.PROTECT, related_name="files", verbose_name=_("yêu cầu bổ sung")
    )
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="online_files", verbose_name=_("hồ sơ"))
    # The missing item this file answers; empty until the citizen said which (several items missing).
    item = models.ForeignKey(
        MissingComponent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="files",
        verbose_name=_("giấy tờ cần bổ sung"),
    )
    source = models.CharField(_("cách gửi"), max_length=10, choices=Source.choices)
    state = models.CharField(_("tình trạng"), max_length=16, choices=FileState.choices)
    file = models.FileField(_("tệp"), upload_to=stored_name, max_length=200)
    original_name = models.CharField(_("tên tệp gốc"), max_length=255, blank=True)
    content_type = models.CharField(_("loại tệp"), max_length=50)
    size = models.PositiveIntegerField(_("dung lượng (byte)"))
    sha256 = models.CharField(_("mã băm SHA-256"), max_length=64)
    follower_user_id = models.CharField(_("tài khoản Zalo gửi"), max_length=64, blank=True)
    # Zalo's id of the chat message that carried the file: a replayed or retried webhook adds nothing.
    zalo_message_id = models.CharField(_("mã tin nhắn Zalo"), max_length=64, blank=True)
    refusal_reason = models.CharField(_("lý do không chấp nhận"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("cán bộ xem xét")
    )
    reviewed_at = models.DateTimeField(_("xem xét lúc"), null=True, blank=True)
    # When the citizen was told this file was refused: one message lists every refusal of a review, once.
    refusal_told_at = models.DateTimeField(_("đã báo công dân lúc"), null=True, blank=True)
    created_at = models.DateTimeField(_("nhận lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("giấy tờ gửi trực tuyến")
        verbose_name_plural = _("giấy tờ gửi trực tuyến")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["zalo_message_id"],
                condition=~models.Q(zalo_message_id=""),
                name="supplement_file_once_per_zalo_message",
            ),
        ]

    def __str__(self):
        return self.original_name or self.file.name
