from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from egov.permission_labels import PermissionLabelsAdmin

from . import services
from .forms import NewPasswordForm, OfficerLoginForm, RequestForm, RolesForm
from .models import AccountAudit, AccountRequest, Department, LoginFailure, LoginLockout, LoginRecord, Officer
from .roles import PROVINCE_ADMIN, roles_of
from .security import has_confirmed_device


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """Departments and reception points (a point is a one-stop-shop department with its agency code,
    kind, ward, address and opening hours); `Department.clean` checks them, in Vietnamese."""

    list_display = (
        "code",
        "name",
        "agency_code",
        "point_kind",
        "ward",
        "is_reception",
        "is_active",
        "officer_count",
    )
    list_filter = ("is_reception", "point_kind", "is_active")
    search_fields = ("code", "name", "short_name", "agency_code", "ward_code")
    fieldsets = (
        (None, {"fields": ("code", "name", "short_name", "is_reception", "is_active")}),
        (
            _("Điểm tiếp nhận"),
            {"fields": ("point_kind", "agency_code", "ward_code", "address", "opening_hours")},
        ),
    )

    @admin.display(description=_("phường, xã"), ordering="ward_code")
    def ward(self, obj):
        if not obj.ward_code:
            return "—"
        from provinces.selectors import current_province

        from .points import wards_of

        name = dict(wards_of(current_province().admin_code)).get(obj.ward_code, "")
        return f"{name} ({obj.ward_code})" if name else obj.ward_code

    @admin.display(description=_("số cán bộ"))
    def officer_count(self, obj):
        return obj.officers.count()

    def has_delete_permission(self, request, obj=None):
        # Departments are referenced by history; deactivate instead of deleting.
        return False


@admin.register(Officer)
class OfficerAdmin(admin.ModelAdmin):
    list_display = ("full_name", "department", "title", "role_names")
    list_filter = ("department", "user__groups")
    search_fields = ("user__username", "user__first_name", "user__last_name", "title")
    list_select_related = ("user", "department")
    autocomplete_fields = ("user",)

    @admin.display(description=_("vai trò"))
    def role_names(self, obj):
        return ", ".join(str(role.label) for role in roles_of(obj.user)) or "—"

    @admin.display(description=_("họ tên"), ordering="user__last_name")
    def full_name(self, obj):
        return obj.full_name


class OfficerInlineForm(forms.ModelForm):
    class Meta:
        model = Officer
        fields = ("department", "title", "phone")


class OfficerInline(admin.StackedInline):
    model = Officer
    form = OfficerInlineForm
    can_delete = False
    extra = 0
    max_num = 1
    verbose_name_plural = _("hồ sơ cán bộ")


class ProvinceUserAdmin(UserAdmin):
    """Accounts of the province. Roles, passwords and second factors change only through
    `offices.services` (checked and audited): the form never offers groups, raw permissions or
    superuser status, and the password page is the province admin's audited reset."""

    inlines = [OfficerInline]
    list_display = ("username", "first_name", "last_name", "role_names", "is_staff", "is_active")
    readonly_fields = ("role_names", "second_factor", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Thông tin cá nhân"), {"fields": ("first_name", "last_name", "email")}),
        (_("Quyền"), {"fields": ("is_active", "is_staff", "role_names", "second_factor")}),
        (_("Thời điểm"), {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_superuser=False)

    def get_readonly_fields(self, request, obj=None):
        # Another province admin's account is changed only through requests a second admin approves
        # (or by the national admin): one admin cannot deactivate or rename a peer alone.
        if obj is not None and obj.pk != request.user.pk and services.is_province_admin(obj):
            return (*self.readonly_fields, "username", "first_name", "last_name", "email", "is_active", "is_staff")
        return self.readonly_fields

    @admin.display(description=_("vai trò"))
    def role_names(self, obj):
        names = ", ".join(str(role.label) for role in roles_of(obj)) or "—"
        if not obj.pk:
            return names
        url = reverse("admin:offices_user_roles", args=[obj.pk])
        return format_html('{} — <a href="{}">{}</a>', names, url, _("đổi vai trò"))

    @admin.display(description=_("xác thực hai bước"))
    def second_factor(self, obj):
        if not obj.pk or not has_confirmed_device(obj):
            return _("chưa đăng ký")
        url = reverse("admin:offices_user_second_factor_reset", args=[obj.pk])
        return format_html('{} — <a href="{}">{}</a>', _("đã bật"), url, _("gỡ (mất điện thoại)"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/vai-tro/", view(self.roles_view), name="offices_user_roles"),
            path(
                "<int:pk>/go-xac-thuc-hai-buoc/",
                view(self.second_factor_reset_view),
                name="offices_user_second_factor_reset",
            ),
        ] + super().get_urls()

    def _target(self, request, pk):
        target = self.get_object(request, str(pk))
        if target is None:
            raise Http404
        if not self.has_change_permission(request, target):
            raise PermissionDenied
        return target

    def _render(self, request, template, context):
        return TemplateResponse(
            request, template, {**self.admin_site.each_context(request), "opts": self.opts, **context}
        )

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        """Province admin resets an officer's password (audited); an admin's needs a second admin."""
        target = self._target(request, id)
        if target.pk == request.user.pk:
            return HttpResponseRedirect(reverse("admin:password_change"))
        admin_target = services.is_province_admin(target)
        form = NewPasswordForm(request.POST if request.method == "POST" and not admin_target else None)
        request_form = RequestForm(request.POST if request.method == "POST" and admin_target else None)
        if request.method == "POST":
            try:
                if admin_target and request_form.is_valid():
                    services.request_change(
                        request.user,
                        AccountRequest.Kind.RESET_ADMIN_PASSWORD,
                        target,
                        request_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("Đã gửi đề nghị; một quản trị tỉnh khác cần duyệt."))
                    return HttpResponseRedirect(reverse("admin:auth_user_change", args=[target.pk]))
                if not admin_target and form.is_valid():
                    services.reset_password(request.user, target, form.cleaned_data["new_password1"])
                    messages.success(request, _("Đã đặt lại mật khẩu (đã ghi nhật ký)."))
                    return HttpResponseRedirect(reverse("admin:auth_user_change", args=[target.pk]))
            except ValidationError as exc:
                (request_form if admin_target else form).add_error(None, exc)
        return self._render(
            request,
            "admin/offices/user_password.html",
            {
                "title": _("Đặt lại mật khẩu: %s") % target.username,
                "target": target,
                "form": form,
                "request_form": request_form,
                "admin_target": admin_target,
                "original": target,
            },
        )

    def roles_view(self, request, pk):
        target = self._target(request, pk)
        current = {role.key for role in roles_of(target)}
        form = RolesForm(request.POST or None, initial={"roles": sorted(current)})
        request_form = RequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            wanted = set(form.cleaned_data["roles"])
            wants_admin = PROVINCE_ADMIN.key in wanted and PROVINCE_ADMIN.key not in current
            if wants_admin and not request_form.is_valid():
                form.add_error(None, _("Cấp vai trò quản trị tỉnh cần ghi lý do để quản trị khác duyệt."))
            else:
                try:
                    services.set_roles(request.user, target, wanted - {PROVINCE_ADMIN.key} if wants_admin else wanted)
                    if wants_admin:
                        services.request_change(
                            request.user,
                            AccountRequest.Kind.GRANT_PROVINCE_ADMIN,
                            target,
                            request_form.cleaned_data["reason"],
                        )
                        messages.success(
                            request, _("Đã gửi đề nghị cấp vai trò quản trị tỉnh; cần một quản trị khác duyệt.")
                        )
                    else:
                        messages.success(request, _("Đã cập nhật vai trò (đã ghi nhật ký)."))
                    return HttpResponseRedirect(reverse("admin:auth_user_change", args=[target.pk]))
                except ValidationError as exc:
                    form.add_error(None, exc)
        return self._render(
            request,
            "admin/offices/user_roles.html",
            {
                "title": _("Vai trò của %s") % target.username,
                "target": target,
                "form": form,
                "request_form": request_form,
                "original": target,
            },
        )

    def second_factor_reset_view(self, request, pk):
        target = self._target(request, pk)
        if request.method == "POST":
            services.reset_second_factor(request.user, target)
            messages.success(request, _("Đã gỡ xác thực hai bước; cán bộ sẽ đăng ký lại ở lần đăng nhập sau."))
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[target.pk]))
        return self._render(
            request,
            "admin/offices/second_factor_reset.html",
            {"title": _("Gỡ xác thực hai bước của %s") % target.username, "target": target, "original": target},
        )


@admin.register(AccountRequest)
class AccountRequestAdmin(admin.ModelAdmin):
    """Pending sensitive changes; a second province admin approves (or rejects) them here."""

    list_display = ("kind", "target", "requested_by", "reason", "state", "created_at", "decided_by_name", "decide")
    list_filter = ("state", "kind")
    list_select_related = ("target", "requested_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("xử lý"))
    def decide(self, obj):
        if obj.state != AccountRequest.State.PENDING:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:offices_accountrequest_decide", args=[obj.pk]), _("duyệt / từ chối")
        )

    def get_urls(self):
        return [
            path("<int:pk>/xu-ly/", self.admin_site.admin_view(self.decide_view), name="offices_accountrequest_decide"),
        ] + super().get_urls()

    @method_decorator(sensitive_post_parameters())
    def decide_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        account_request = AccountRequest.objects.select_related("target", "requested_by").filter(pk=pk).first()
        if account_request is None:
            raise Http404
        needs_password = account_request.kind == AccountRequest.Kind.RESET_ADMIN_PASSWORD
        form = NewPasswordForm(request.POST if request.method == "POST" and "approve" in request.POST else None)
        if request.method == "POST":
            try:
                if "reject" in request.POST:
                    services.reject_request(request.user, account_request)
                    messages.success(request, _("Đã từ chối đề nghị."))
                    return HttpResponseRedirect(reverse("admin:offices_accountrequest_changelist"))
                if not needs_password or form.is_valid():
                    password = form.cleaned_data["new_password1"] if needs_password else None
                    services.approve_request(request.user, account_request, new_password=password)
                    messages.success(request, _("Đã duyệt đề nghị (đã ghi nhật ký)."))
                    return HttpResponseRedirect(reverse("admin:offices_accountrequest_changelist"))
            except ValidationError as exc:
                form.add_error(None, exc)
        return TemplateResponse(
            request,
            "admin/offices/decide_request.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": str(account_request),
                "account_request": account_request,
                "form": form,
                "needs_password": needs_password,
            },
        )


@admin.register(AccountAudit)
class AccountAuditAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_name", "target_name", "approver_name", "detail")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_name", "approver_name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(User)
admin.site.register(User, ProvinceUserAdmin)


class ProvinceGroupAdmin(PermissionLabelsAdmin, GroupAdmin):
    """Django's group page, its permissions named in the reader's language."""


admin.site.unregister(Group)
admin.site.register(Group, ProvinceGroupAdmin)
# django-otp's device pages are English only and show any officer's TOTP secret (its QR code) to
# whoever may view devices; officers enrol at login and an admin removes a lost phone's device
# through the user's page (audited, second_factor_reset_view) instead.
admin.site.unregister(TOTPDevice)
# django-axes' pages through proxies that name each record in Vietnamese (offices.models).
for _axes_model, _proxy, _axes_admin in (
    (AccessAttempt, LoginLockout, AccessAttemptAdmin),
    (AccessLog, LoginRecord, AccessLogAdmin),
    (AccessFailureLog, LoginFailure, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_axes_model):
        admin.site.unregister(_axes_model)
        admin.site.register(_proxy, _axes_admin)
# Every province's admin login asks for the TOTP code (offices.forms.OfficerLoginForm).
admin.site.login_form = OfficerLoginForm
