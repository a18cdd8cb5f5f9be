"""Ratings in the province's admin: every rating (read-only, with what it is about), the inbox of those to
answer (1–2 or a complaint) where a province admin writes the answer, and the answers' audit log."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from egov.ratelimit import client_address

from . import services
from .models import Rating, RatingAnswerLog, RatingToAnswer

SHOWN = (
    "dossier",
    "score",
    "comment",
    "source",
    "procedure",
    "department",
    "reception_point",
    "held_by",
    "first_given_at",
    "updated_at",
    "changes",
    "answered_by",
    "answered_at",
    "answer_error",
)


class ReadOnlyMixin:
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("cán bộ đã giữ hồ sơ"))
    def held_by(self, rating):
        return ", ".join(o.full_name for o in rating.officers.select_related("user")) or "—"

    @admin.display(description=_("mã hồ sơ"), ordering="dossier__code")
    def dossier_code(self, rating):
        return rating.dossier.code

    @admin.display(description=_("góp ý"))
    def short_comment(self, rating):
        return (rating.comment[:80] + "…") if len(rating.comment) > 80 else (rating.comment or "—")


@admin.register(Rating)
class RatingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("first_given_at", "dossier_code", "score", "short_comment", "procedure", "department", "source")
    list_filter = ("score", "source", "needs_answer", "department", "reception_point")
    search_fields = ("dossier__code", "comment")
    list_select_related = ("dossier", "procedure", "department")
    readonly_fields = (*SHOWN, "answer")
    fields = (*SHOWN, "answer")

    def has_change_permission(self, request, obj=None):
        return False


class AnswerForm(forms.ModelForm):
    class Meta:
        model = RatingToAnswer
        fields = ("answer",)
        widgets = {"answer": forms.Textarea(attrs={"rows": 4, "maxlength": services.ANSWER_MAX})}


class AnsweredFilter(admin.SimpleListFilter):
    title = _("tình trạng")
    parameter_name = "da_tra_loi"

    def lookups(self, request, model_admin):
        return (("0", _("Chưa trả lời")), ("1", _("Đã trả lời")))

    def queryset(self, request, queryset):
        if self.value() == "0":
            return queryset.filter(answered_at__isnull=True)
        if self.value() == "1":
            return queryset.filter(answered_at__isnull=False)
        return queryset


@admin.register(RatingToAnswer)
class RatingInboxAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Hộp thư đánh giá cần trả lời: ratings of 1–2 and complaints; the answer is recorded with who gave it."""

    form = AnswerForm
    list_display = (
        "first_given_at",
        "dossier_code",
        "score",
        "short_comment",
        "department",
        "answered_by",
        "answered_at",
    )
    list_filter = (AnsweredFilter, "score", "department", "reception_point")
    search_fields = ("dossier__code", "comment")
    list_select_related = ("dossier", "department", "answered_by__user")
    readonly_fields = SHOWN
    fields = (*SHOWN, "answer")
    ordering = ("answered_at", "-first_given_at")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(needs_answer=True)

    def save_model(self, request, obj, form, change):
        try:
            services.answer(obj, getattr(request.user, "officer", None), obj.answer, address=client_address(request))
        except services.RatingRefused as exc:
            messages.error(request, exc.message)
            return
        messages.success(request, _("Đã lưu câu trả lời; công dân thấy trên trang đánh giá của hồ sơ."))

    def save_related(self, request, form, formsets, change):
        return None  # only the answer is written, by services.answer


@admin.register(RatingAnswerLog)
class RatingAnswerLogAdmin(admin.ModelAdmin):
    list_display = ("at", "rating", "officer", "text", "address")
    readonly_fields = ("at", "rating", "officer", "text", "address")
    search_fields = ("rating__dossier__code",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
