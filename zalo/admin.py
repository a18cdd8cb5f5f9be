from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from . import accounts
from .models import CitizenQuestion, DossierLink, Follower, InboundEvent, ZaloAccount

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
            "template_zalo_link",
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
    list_display = ("__str__", "oa_id", "is_active", "connection_state", "access_token_expires_at", "refresh_error")
    readonly_fields = (
        "connection_state",
        "access_token_expires_at",
        "refreshed_at",
        "refresh_failed_at",
        "refresh_error",
    )
    actions = ["refresh_now"]

    @admin.display(description=_("kết nối"))
    def connection_state(self, account):
        """Connected / broken (the last refresh failed: see its error) / not connected yet."""
        if account.refresh_error:
            return _("Bị lỗi, cần kết nối lại")
        if account.access_token:
            return _("Đã kết nối")
        return _("Chưa kết nối")

    def save_model(self, request, obj, form, change):
        """A change writes only what the admin changed: a token refresh may have stored a new pair (and
        cleared its error) since this request read the row, and writing that copy back would break the chain."""
        if not change:
            return super().save_model(request, obj, form, change)
        fields = [
            name
            for name in form.changed_data
            if name not in SECRET_FIELDS or form.data.get(form.add_prefix(name))  # a secret left empty is kept
        ]
        if fields:
            obj.save(update_fields=fields)

    @admin.action(description=_("Làm mới access token ngay"))
    def refresh_now(self, request, queryset):
        try:
            accounts.refresh(force=True)
        except Exception as exc:  # noqa: BLE001 - shown to the admin (and recorded on the OA)
            messages.error(request, _("Không làm mới được: %s") % accounts.describe_failure(exc))
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


class LiveFilter(admin.SimpleListFilter):
    title = _("tình trạng")
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return (("1", _("Đang nhận tin")), ("0", _("Đã gỡ")))

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "0":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(DossierLink)
class DossierLinkAdmin(admin.ModelAdmin):
    """Zalo accounts that receive news of a dossier; officers remove the ones the applicant does not know.

    Search by dossier code (the dossier page links here with ?q=<code>). Removing is an action that
    keeps the row (who, when) and writes the admin log; no message about the dossier reaches the
    account afterwards.
    """

    list_display = ("dossier", "follower_name", "follower_user_id", "linked_at", "live", "removed_at", "removed_by")
    list_filter = (LiveFilter,)
    search_fields = ("dossier__code", "follower__user_id", "follower__display_name")
    list_select_related = ("dossier", "follower", "removed_by__user")
    readonly_fields = ("dossier", "follower", "linked_at", "removed_at", "removed_by")
    actions = ["remove_links"]

    @admin.display(description=_("tên Zalo"))
    def follower_name(self, link):
        return link.follower.display_name or "—"

    @admin.display(description=_("Zalo user id"))
    def follower_user_id(self, link):
        return link.follower.user_id

    @admin.display(description=_("đang nhận tin"), boolean=True)
    def live(self, link):
        return link.is_live

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a link is removed by the action below, never deleted: the row is the audit

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("remove_links", None)
        return actions

    @admin.action(description=_("Gỡ liên kết: ngừng gửi tin về hồ sơ đến tài khoản Zalo này"))
    def remove_links(self, request, queryset):
        from .inbox import unlink

        if not self.has_change_permission(request):
            raise PermissionDenied
        officer = getattr(request.user, "officer", None)
        removed = 0
        for link in queryset.select_related("dossier", "follower"):
            if unlink(link, officer):
                removed += 1
                self.log_change(
                    request,
                    link,
                    _("Gỡ liên kết Zalo %(user)s khỏi hồ sơ %(code)s")
                    % {
                        "user": link.follower.user_id,
                        "code": link.dossier.code,
                    },
                )
        messages.success(request, _("Đã gỡ %(n)d liên kết.") % {"n": removed})
