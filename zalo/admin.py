from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import accounts
from .models import CitizenQuestion, Follower, InboundEvent, ZaloAccount

SECRET_FIELDS = ("app_secret", "oa_secret_key", "access_token", "refresh_token")


class ZaloAccountForm(forms.ModelForm):
    """Secrets are write-only: never shown back; leave a field empty to keep the stored value."""

    class Meta:
        model = ZaloAccount
        fields = (
            "name",
            "app_id",
            "oa_id",
            "app_secret",
            "oa_secret_key",
            "access_token",
            "refresh_token",
            "template_receipt",
            "template_supplement",
            "template_result_early",
            "template_result_ready",
            "template_apology",
            "is_active",
        )
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            self.fields[name].required = not (self.instance and self.instance.pk) and name in (
                "app_secret",
                "oa_secret_key",
            )
            if self.instance and self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = _("Đã lưu. Để trống nếu không đổi.")

    def clean(self):
        cleaned = super().clean()
        for name in SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(ZaloAccount)
class ZaloAccountAdmin(admin.ModelAdmin):
    form = ZaloAccountForm
    list_display = ("__str__", "oa_id", "is_active", "access_token_expires_at", "refreshed_at", "refresh_error")
    readonly_fields = ("access_token_expires_at", "refreshed_at", "refresh_failed_at", "refresh_error")
    actions = ["refresh_now"]

    @admin.action(description=_("Làm mới access token ngay"))
    def refresh_now(self, request, queryset):
        try:
            accounts.access_token(stale_token="")
        except Exception as exc:  # noqa: BLE001 - shown to the admin
            messages.error(request, _("Không làm mới được: %s") % exc.__class__.__name__)
        else:
            messages.success(request, _("Đã làm mới access token."))


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "user_id", "is_following", "followed_at", "last_interaction_at")
    list_filter = ("is_following",)
    search_fields = ("user_id", "display_name")

    def has_add_permission(self, request):
        return False


class AnswerForm(forms.ModelForm):
    class Meta:
        model = CitizenQuestion
        fields = ("answer",)


@admin.register(CitizenQuestion)
class CitizenQuestionAdmin(admin.ModelAdmin):
    """Hộp thư hỏi đáp: officers answer; the answer goes to the citizen as a Zalo CS message."""

    list_display = ("received_at", "follower", "text", "state", "answered_by")
    list_filter = ("state",)
    search_fields = ("text", "follower__display_name")
    readonly_fields = ("follower", "text", "received_at", "state", "answered_by", "answered_at", "answer_error")
    fields = ("follower", "received_at", "text", "answer", "state", "answered_by", "answered_at", "answer_error")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .inbox import answer_question

        if not obj.answer.strip():
            messages.error(request, _("Chưa nhập câu trả lời."))
            return
        if answer_question(obj, getattr(request.user, "officer", None), obj.answer):
            messages.success(request, _("Đã gửi câu trả lời qua Zalo."))
        else:
            messages.error(request, obj.answer_error)


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event_name", "outcome", "processed_at")
    list_filter = ("event_name", "outcome")
    readonly_fields = ("dedupe_key", "event_name", "payload", "received_at", "processed_at", "outcome", "error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
