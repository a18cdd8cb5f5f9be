from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from . import accounts, oauth
from .models import CitizenQuestion, DossierLink, Follower, InboundEvent, ZaloAccount

SECRET_FIELDS = ("app_secret", "oa_secret_key")


class ZaloAccountForm(forms.ModelForm):
    """Secrets are write-only: never shown back; leave a field empty to keep the stored value.

    The OA's tokens are not in the form at all: they come only from the consent flow ("Kết nối Zalo OA",
    zalo.oauth) and from refreshes (zalo.accounts), never typed in and never displayed."""

    class Meta:
        model = ZaloAccount
        fields = (
            "name",
            "app_id",
            "oa_id",
            "app_secret",
            "oa_secret_key",
            "template_receipt",
            "template_supplement",
            "template_result_early",
            "template_result_ready",
            "template_apology",
            "template_new_appointment",
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
    # The connection (state, expiry, last refresh, last error) and its "Kết nối Zalo OA" / "Kết nối lại"
    # button are on top of the OA's page: templates/admin/zalo/zaloaccount/change_form.html.
    actions = ["refresh_now"]

    @admin.display(description=_("kết nối"))
    def connection_state(self, account):
        """Connected / broken (the last refresh failed: see its error) / not connected yet."""
        if account.refresh_error:
            return _("Bị lỗi, cần kết nối lại")
        if account.access_token:
            return _("Đã kết nối")
        return _("Chưa kết nối")

    # -- "Kết nối Zalo OA": the OAuth v4 consent flow (zalo.oauth) ----------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view  # logged-in staff; the second factor is enforced before any admin page
        return [
            path("ket-noi/callback/", view(self.connect_callback), name="zalo_zaloaccount_connect_callback"),
            path("<path:object_id>/ket-noi/", view(self.connect_start), name="zalo_zaloaccount_connect"),
            *super().get_urls(),
        ]

    def may_connect(self, request, account=None):
        """Province admins only: the permission to change the OA and a session verified by the second factor."""
        user = request.user
        is_verified = getattr(user, "is_verified", None)
        return (
            user.has_perm("zalo.change_zaloaccount")
            and self.has_change_permission(request, account)
            and callable(is_verified)
            and is_verified()
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The OA's page: its connection, from the row this request already read (never a token)."""
        if change and obj is not None:
            context["zalo_connection"] = {
                "state": self.connection_state(obj),
                "broken": bool(obj.refresh_error),
                "expires_at": obj.access_token_expires_at,
                "refreshed_at": obj.refreshed_at,
                "failed_at": obj.refresh_failed_at,
                "error": obj.refresh_error,
                "can_connect": self.may_connect(request, obj),
                "connect_url": reverse("admin:zalo_zaloaccount_connect", args=[quote(obj.pk)]),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _oa_page(self, account_pk=None):
        if account_pk is None:
            current = accounts.current_account()
            account_pk = current.pk if current is not None else None
        if account_pk is None:
            return HttpResponseRedirect(reverse("admin:zalo_zaloaccount_changelist"))
        return HttpResponseRedirect(reverse("admin:zalo_zaloaccount_change", args=[quote(account_pk)]))

    def connect_start(self, request, object_id):
        """POST (the button on the OA's page): send the admin's browser to Zalo's permission page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        account = self.get_object(request, object_id)
        if account is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_connect(request, account):
            raise PermissionDenied
        if not account.app_id or not account.app_secret:
            messages.error(request, _("Hãy nhập app id và app secret của ứng dụng Zalo trước khi kết nối."))
            return self._oa_page(account.pk)
        return HttpResponseRedirect(oauth.begin(request, account))

    def connect_callback(self, request):
        """Zalo's redirect back (the redirect URI registered in the Zalo app, on the province's own domain)."""
        if not self.may_connect(request):
            raise PermissionDenied
        try:
            pending = oauth.take_pending(request, request.GET.get("state", ""))
        except oauth.ConnectRefused as refused:
            messages.error(request, refused.message)
            return self._oa_page()
        account = self.get_object(request, str(pending.account_pk))
        if account is None or not self.may_connect(request, account):
            raise PermissionDenied
        try:
            oauth.connect(
                pending,
                code=request.GET.get("code", ""),
                oa_id=request.GET.get("oa_id", ""),
                error=request.GET.get("error", ""),
                error_description=request.GET.get("error_description", ""),
            )
        except oauth.ConnectRefused as refused:
            self.log_change(request, account, _("Kết nối Zalo OA không thành công: %s") % refused.message)
            messages.error(request, refused.message)
            return self._oa_page(account.pk)
        reconnected = bool(account.refresh_error)
        self.log_change(
            request, account, _("Kết nối lại Zalo OA (ủy quyền mới)") if reconnected else _("Kết nối Zalo OA")
        )
        messages.success(request, _("Đã kết nối Zalo OA %(oa)s.") % {"oa": account})
        return self._oa_page(account.pk)

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

    @admin.display(description=_("mã người dùng Zalo"))
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


from . import admin_templates  # noqa: E402, F401  (issue 10.6: approved templates and their parameters)
