"""The citizen's rating of the service (Decision 766: satisfaction), one per dossier.

A dossier whose result was returned is asked once (`RatingRequest`, unique per dossier, written with
its outbox row in the transaction of the return). The answer is one `Rating` per dossier (a database
constraint), changeable for RATING_CHANGE_DAYS after it was first given, then read-only. It keeps the
procedure, the department that decided, the reception point and the officers who held the dossier,
as they were when it was rated. Low ratings (1–2) and complaints go to the province admins' inbox
(`RatingToAnswer`); each answer is an append-only `RatingAnswerLog` row.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier, DossierEvent, Procedure
from notifications.models import Notification
from offices.models import Department, Officer


def new_ref() -> str:
    """The reference in the reply buttons' payload (not a secret: a reply counts only from a linked account)."""
    return secrets.token_hex(5)


class RatingRequest(models.Model):
    dossier = models.OneToOneField(
        Dossier, on_delete=models.PROTECT, related_name="rating_request", verbose_name=_("hồ sơ")
    )
    event = models.ForeignKey(DossierEvent, on_delete=models.PROTECT, related_name="+", verbose_name=_("sự kiện"))
    ref = models.CharField(_("mã tham chiếu"), max_length=16, unique=True, default=new_ref)
    notification = models.OneToOneField(
        Notification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rating_request",
        verbose_name=_("tin mời đánh giá"),
    )
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    class Meta:
        verbose_name = _("lời mời đánh giá")
        verbose_name_plural = _("lời mời đánh giá")

    def __str__(self):
        return str(self.dossier)


class Rating(models.Model):
    class Source(models.TextChoices):
        CHAT = "chat", _("Trả lời tin nhắn Zalo")
        BUTTON = "button", _("Nút bấm trong tin nhắn Zalo")
        ZNS = "zns", _("Mẫu đánh giá ZNS")
        PAGE = "page", _("Trang tra cứu hồ sơ")

    dossier = models.OneToOneField(Dossier, on_delete=models.PROTECT, related_name="rating", verbose_name=_("hồ sơ"))
    score = models.PositiveSmallIntegerField(_("mức hài lòng (1–5)"))
    comment = models.TextField(_("góp ý"), blank=True)
    source = models.CharField(_("đánh giá qua"), max_length=10, choices=Source.choices)
    follower_user_id = models.CharField(_("mã người dùng Zalo"), max_length=64, blank=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="+", verbose_name=_("thủ tục"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("phòng ban giải quyết")
    )
    reception_point = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("bộ phận tiếp nhận")
    )
    officers = models.ManyToManyField(Officer, related_name="+", blank=True, verbose_name=_("cán bộ đã giữ hồ sơ"))
    first_given_at = models.DateTimeField(_("đánh giá lần đầu lúc"))
    updated_at = models.DateTimeField(_("sửa lúc"))
    changes = models.PositiveSmallIntegerField(_("số lần sửa"), default=0)
    needs_answer = models.BooleanField(_("cần trả lời"), default=False, db_index=True)
    answer = models.TextField(_("trả lời của tỉnh"), blank=True)
    answered_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("người trả lời")
    )
    answered_at = models.DateTimeField(_("trả lời lúc"), null=True, blank=True)
    answer_error = models.CharField(_("lỗi gửi trả lời"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("đánh giá của công dân")
        verbose_name_plural = _("đánh giá của công dân")
        ordering = ["-first_given_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
        ]

    def __str__(self):
        return f"{self.dossier} — {self.score}/5"


class RatingToAnswer(Rating):
    """The province admins' inbox: ratings of 1–2 and complaints, to be answered."""

    class Meta:
        proxy = True
        verbose_name = _("đánh giá cần trả lời")
        verbose_name_plural = _("hộp thư đánh giá cần trả lời")


class RatingAnswerLog(models.Model):
    """Who answered a rating, when, and what (append-only: a database trigger refuses UPDATE and DELETE)."""

    rating = models.ForeignKey(Rating, on_delete=models.PROTECT, related_name="answer_log", verbose_name=_("đánh giá"))
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="+", verbose_name=_("người trả lời"))
    at = models.DateTimeField(_("lúc"), auto_now_add=True)
    text = models.TextField(_("nội dung trả lời"))
    address = models.CharField(_("địa chỉ"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("nhật ký trả lời đánh giá")
        verbose_name_plural = _("nhật ký trả lời đánh giá")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.officer}"
