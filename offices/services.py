"""Creating departments and officers, and every change to an officer account (password, roles, second
factor): the one place seed data and the admin pages write them."""

from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .models import AccountAction, AccountAudit, AccountRequest, Department, Officer
from .roles import PROVINCE_ADMIN, ROLES, ROLES_BY_KEY, assign_role, roles_of


def ensure_department(code, name, short_name="", is_reception=False):
    department, _created = Department.objects.get_or_create(
        code=code, defaults={"name": name, "short_name": short_name, "is_reception": is_reception}
    )
    return department


@transaction.atomic
def ensure_officer(*, username, full_name, role, department, title="", phone="", password=None):
    """Create an officer account with its profile and role, or leave an existing one untouched.

    Returns (officer, created). An existing account keeps its password and details.
    """
    existing = Officer.objects.select_related("user").filter(user__username=username).first()
    if existing:
        return existing, False
    last, _, first = full_name.rpartition(" ")
    user = User(username=username, first_name=first, last_name=last, is_staff=True)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    officer = Officer.objects.create(user=user, department=department, title=title, phone=phone)
    assign_role(user, role)
    return officer, True


# --- Accounts: password resets, roles, second factor ------------------------------------------
# Every change to an officer's password, roles or second factor goes through these functions, each
# one checks who may do it and writes an AccountAudit row in the same transaction. The admin pages
# (province and national) only call them.


@dataclass(frozen=True)
class NationalAdmin:
    """The national admin (a superuser of the public schema) acting inside a province's schema."""

    username: str

    def __str__(self):
        return gettext("quản trị quốc gia %(name)s") % {"name": self.username}


def is_province_admin(user):
    return user.is_active and user.groups.filter(name=PROVINCE_ADMIN.group_name).exists()


def _audit(action, actor, target, approver=None, detail=""):
    national_actor = isinstance(actor, NationalAdmin)
    national_approver = isinstance(approver, NationalAdmin)
    return AccountAudit.objects.create(
        action=action,
        actor=None if national_actor else actor,
        actor_name=str(actor) if national_actor else actor.get_username(),
        target=target,
        target_name=target.get_username(),
        approver=None if (approver is None or national_approver) else approver,
        approver_name="" if approver is None else (str(approver) if national_approver else approver.get_username()),
        detail=detail[:500],
    )


def _require_province_admin(actor):
    if isinstance(actor, NationalAdmin):
        return
    if not is_province_admin(actor):
        raise PermissionDenied(gettext("Chỉ quản trị tỉnh mới được thay đổi tài khoản cán bộ."))


def _locked_user(user):
    return User.objects.select_for_update().get(pk=user.pk)


def _set_password(target, new_password):
    password_validation.validate_password(new_password, target)
    target.set_password(new_password)  # also ends the target's other sessions (session hash changes)
    target.save(update_fields=["password"])


def _is_admin_account(user):
    return user.is_superuser or user.groups.filter(name=PROVINCE_ADMIN.group_name).exists()


@transaction.atomic
def reset_password(actor, target, new_password):
    """A province admin sets a new password for an officer of the province.

    A province admin's password is reset by the national admin, or through `request_change` and a
    second admin's approval; an officer changes their own password with the old one (admin page
    "Đổi mật khẩu"), not here.
    """
    _require_province_admin(actor)
    target = _locked_user(target)
    if not isinstance(actor, NationalAdmin):
        if target.pk == actor.pk:
            raise PermissionDenied(gettext("Hãy đổi mật khẩu của chính mình ở trang “Đổi mật khẩu”."))
        if _is_admin_account(target):
            raise PermissionDenied(
                gettext(
                    "Mật khẩu của quản trị tỉnh chỉ được đặt lại bởi quản trị quốc gia hoặc khi một quản trị "
                    "tỉnh khác duyệt đề nghị."
                )
            )
    _set_password(target, new_password)
    _audit(AccountAction.PASSWORD_RESET, actor, target)
    return target


@transaction.atomic
def set_roles(actor, target, role_keys):
    """Give an officer exactly these roles. Granting "Quản trị tỉnh" needs the national admin or a
    second province admin (`request_change`); every other change is applied and audited here."""
    _require_province_admin(actor)
    target = _locked_user(target)
    if target.is_superuser:
        raise PermissionDenied(gettext("Không được thay đổi tài khoản quản trị quốc gia."))
    wanted = {ROLES_BY_KEY[key] for key in role_keys}
    current = set(roles_of(target))
    if PROVINCE_ADMIN in wanted - current and not isinstance(actor, NationalAdmin):
        raise PermissionDenied(
            gettext("Cấp vai trò quản trị tỉnh cần quản trị quốc gia, hoặc một quản trị tỉnh khác duyệt đề nghị.")
        )
    if wanted == current:
        return target
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.group_name for r in ROLES])}
    for role in current - wanted:
        target.groups.remove(groups[role.group_name])
    for role in wanted - current:
        target.groups.add(groups[role.group_name])
    if wanted and not target.is_staff:
        target.is_staff = True
        target.save(update_fields=["is_staff"])
    action = AccountAction.ADMIN_ROLE_GRANTED if PROVINCE_ADMIN in wanted - current else AccountAction.ROLES_CHANGED
    before = ", ".join(sorted(r.group_name for r in current)) or "—"
    after = ", ".join(sorted(r.group_name for r in wanted)) or "—"
    detail = f"{before} → {after}"
    _audit(action, actor, target, detail=detail)
    return target


@transaction.atomic
def request_change(actor, kind, target, reason):
    """Province admin A asks for a change that a second admin B (≠ A, ≠ the target) must approve."""
    _require_province_admin(actor)
    if isinstance(actor, NationalAdmin):
        raise PermissionDenied(gettext("Quản trị quốc gia thực hiện trực tiếp, không cần đề nghị."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(gettext("Hãy ghi lý do của đề nghị."))
    target = _locked_user(target)
    if target.pk == actor.pk:
        raise PermissionDenied(gettext("Không được đề nghị cho chính tài khoản của mình."))
    if target.is_superuser:
        raise PermissionDenied(gettext("Không được thay đổi tài khoản quản trị quốc gia."))
    admin_now = is_province_admin(target)
    if kind == AccountRequest.Kind.GRANT_PROVINCE_ADMIN and admin_now:
        raise ValidationError(gettext("Tài khoản này đã là quản trị tỉnh."))
    if kind == AccountRequest.Kind.RESET_ADMIN_PASSWORD and not admin_now:
        raise ValidationError(gettext("Mật khẩu của cán bộ thường do quản trị tỉnh đặt lại trực tiếp."))
    if AccountRequest.objects.filter(kind=kind, target=target, state=AccountRequest.State.PENDING).exists():
        raise ValidationError(gettext("Đã có một đề nghị như vậy đang chờ duyệt."))
    account_request = AccountRequest.objects.create(kind=kind, target=target, requested_by=actor, reason=reason[:300])
    _audit(AccountAction.REQUESTED, actor, target, detail=f"{account_request.get_kind_display()}: {reason}")
    return account_request


def _locked_pending(account_request):
    locked = AccountRequest.objects.select_for_update().select_related("target", "requested_by")
    locked = locked.get(pk=account_request.pk)
    if locked.state != AccountRequest.State.PENDING:
        raise ValidationError(gettext("Đề nghị này đã được xử lý."))
    return locked


def _require_second_person(approver, account_request):
    if isinstance(approver, NationalAdmin):
        return
    _require_province_admin(approver)
    if approver.pk in (account_request.requested_by_id, account_request.target_id):
        raise PermissionDenied(
            gettext("Người duyệt phải là một quản trị tỉnh khác, không phải người đề nghị hay chủ tài khoản.")
        )


@transaction.atomic
def approve_request(approver, account_request, new_password=None):
    """The second admin (or the national admin) approves: the change is made and audited with both names."""
    account_request = _locked_pending(account_request)
    _require_second_person(approver, account_request)
    target = _locked_user(account_request.target)
    if account_request.kind == AccountRequest.Kind.GRANT_PROVINCE_ADMIN:
        target.groups.add(Group.objects.get(name=PROVINCE_ADMIN.group_name))
        if not target.is_staff:
            target.is_staff = True
            target.save(update_fields=["is_staff"])
        action = AccountAction.ADMIN_ROLE_GRANTED
    else:
        if not new_password:
            raise ValidationError(gettext("Hãy nhập mật khẩu mới."))
        _set_password(target, new_password)
        action = AccountAction.PASSWORD_RESET
    account_request.state = AccountRequest.State.APPROVED
    account_request.decided_by = None if isinstance(approver, NationalAdmin) else approver
    account_request.decided_by_name = str(approver) if isinstance(approver, NationalAdmin) else approver.username
    account_request.decided_at = timezone.now()
    account_request.save(update_fields=["state", "decided_by", "decided_by_name", "decided_at"])
    _audit(action, account_request.requested_by, target, approver=approver, detail=account_request.reason)
    return account_request


@transaction.atomic
def reject_request(approver, account_request):
    account_request = _locked_pending(account_request)
    if isinstance(approver, NationalAdmin) or approver.pk == account_request.requested_by_id:
        pass  # the national admin, or the requester withdrawing
    else:
        _require_second_person(approver, account_request)
    account_request.state = AccountRequest.State.REJECTED
    account_request.decided_by = None if isinstance(approver, NationalAdmin) else approver
    account_request.decided_by_name = str(approver) if isinstance(approver, NationalAdmin) else approver.username
    account_request.decided_at = timezone.now()
    account_request.save(update_fields=["state", "decided_by", "decided_by_name", "decided_at"])
    _audit(AccountAction.REJECTED, approver, account_request.target, detail=account_request.get_kind_display())
    return account_request


@transaction.atomic
def reset_second_factor(actor, target):
    """Remove an officer's TOTP devices (lost phone): they enrol again at the next login.

    The same rule as passwords: the province admin for officers, the national admin for admins.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _require_province_admin(actor)
    target = _locked_user(target)
    if not isinstance(actor, NationalAdmin) and (target.pk == actor.pk or _is_admin_account(target)):
        raise PermissionDenied(gettext("Xác thực hai bước của quản trị tỉnh chỉ do quản trị quốc gia gỡ."))
    TOTPDevice.objects.filter(user=target).delete()
    _audit(AccountAction.SECOND_FACTOR_RESET, actor, target)
    return target


def record_enrolment(user):
    _audit(AccountAction.SECOND_FACTOR_ENROLLED, user, user)
