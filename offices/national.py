"""The national admin's page for one province's admin accounts (served by the national admin site).

The national admin has no account in the province's schema; it acts there as `NationalAdmin` and
every change goes through `offices.services` (audited in the province's own log).
"""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from . import services
from .models import AccountAudit, AccountRequest
from .roles import PROVINCE_ADMIN, roles_of


def province_accounts(request, province, site):
    if not request.user.is_superuser:
        raise PermissionDenied
    actor = services.NationalAdmin(request.user.get_username())
    with tenant_context(province):
        if request.method == "POST":
            try:
                _act(request, actor)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(request.path)
        context = {
            **site.each_context(request),
            "title": _("Tài khoản quản trị của %s") % province.name,
            "province": province,
            "admins": list(User.objects.filter(groups__name=PROVINCE_ADMIN.group_name).order_by("username")),
            "pending": list(
                AccountRequest.objects.filter(state=AccountRequest.State.PENDING).select_related(
                    "target", "requested_by"
                )
            ),
            "audit": list(AccountAudit.objects.all()[:30]),
        }
        return TemplateResponse(request, "admin/offices/national_accounts.html", context).render()


def _user(username):
    user = User.objects.filter(username=(username or "").strip()).first()
    if user is None:
        raise ValidationError(_("Không có tài khoản “%s” trong tỉnh này.") % username)
    return user


def _act(request, actor):
    action = request.POST.get("action")
    if action == "grant_admin":
        target = _user(request.POST.get("username"))
        services.set_roles(actor, target, {role.key for role in roles_of(target)} | {PROVINCE_ADMIN.key})
        messages.success(request, _("Đã cấp vai trò quản trị tỉnh cho %s.") % target.username)
    elif action == "reset_password":
        target = _user(request.POST.get("username"))
        if request.POST.get("password1") != request.POST.get("password2"):
            raise ValidationError(_("Hai lần nhập mật khẩu không khớp nhau."))
        services.reset_password(actor, target, request.POST.get("password1") or "")
        messages.success(request, _("Đã đặt lại mật khẩu của %s.") % target.username)
    elif action == "reset_second_factor":
        target = _user(request.POST.get("username"))
        services.reset_second_factor(actor, target)
        messages.success(request, _("Đã gỡ xác thực hai bước của %s.") % target.username)
    elif action in ("approve", "reject"):
        account_request = AccountRequest.objects.get(pk=int(request.POST.get("request") or 0))
        if action == "approve":
            services.approve_request(actor, account_request, new_password=request.POST.get("password1") or None)
        else:
            services.reject_request(actor, account_request)
        messages.success(request, _("Đã xử lý đề nghị."))
