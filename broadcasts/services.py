"""Broadcast actions: the two-person rule, the audited emergency path, cancel and corrections.

Nobody approves their own broadcast. A province may let one admin send an emergency alone, with a
written reason; every such send is audited. Delivery starts after the approving transaction commits.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AuditEntry, Broadcast, BroadcastSettings, Recipient, Severity, State


class BroadcastError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


CREATE_PERMISSION = "broadcasts.add_broadcast"
APPROVE_PERMISSION = "broadcasts.approve_broadcast"


def _check(officer, permission):
    if officer is None or not officer.user.is_active or not officer.user.has_perm(permission):
        raise BroadcastError(_("Chỉ quản trị tỉnh được soạn, duyệt và gửi tin cảnh báo."))


def _audit(broadcast, officer, action, note=""):
    AuditEntry.objects.create(broadcast=broadcast, actor=officer, action=action, note=note)


def _locked(broadcast, allowed, label):
    b = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if b.state not in allowed:
        raise BroadcastError(
            _("Không thể %(action)s tin đang ở trạng thái “%(state)s”.")
            % {"action": label, "state": b.get_state_display()}
        )
    return b


def _start_after_commit(b):
    from .tasks import start_broadcast

    eta = b.scheduled_at if b.scheduled_at and b.scheduled_at > timezone.now() else None
    transaction.on_commit(lambda: start_broadcast.apply_async((b.pk,), eta=eta))


def create(officer, **fields) -> Broadcast:
    _check(officer, CREATE_PERMISSION)
    with transaction.atomic():
        b = Broadcast(created_by=officer, **fields)
        b.full_clean(exclude=["created_by"])
        b.save()
        _audit(b, officer, "create")
    return b


@transaction.atomic
def submit(broadcast, officer):
    _check(officer, CREATE_PERMISSION)
    b = _locked(broadcast, {State.DRAFT}, _("trình duyệt"))
    b.state, b.submitted_at = State.SUBMITTED, timezone.now()
    b.save()
    _audit(b, officer, "submit")
    return b


@transaction.atomic
def approve(broadcast, officer):
    _check(officer, APPROVE_PERMISSION)
    b = _locked(broadcast, {State.SUBMITTED}, _("duyệt"))
    if b.created_by_id == officer.pk:
        raise BroadcastError(_("Không ai được tự duyệt tin của mình: cần một quản trị khác duyệt."))
    b.state, b.approved_by, b.approved_at = State.APPROVED, officer, timezone.now()
    b.save()
    _audit(b, officer, "approve")
    _start_after_commit(b)
    return b


@transaction.atomic
def reject(broadcast, officer, reason):
    _check(officer, APPROVE_PERMISSION)
    if not (reason or "").strip():
        raise BroadcastError(_("Phải ghi lý do từ chối."))
    b = _locked(broadcast, {State.SUBMITTED}, _("từ chối"))
    b.state, b.decision_reason = State.REJECTED, reason.strip()
    b.save()
    _audit(b, officer, "reject", reason.strip())
    return b


@transaction.atomic
def send_emergency_alone(broadcast, officer, reason):
    """The single-admin path: only for emergencies, only where the province allows it, with a reason."""
    _check(officer, APPROVE_PERMISSION)
    if not BroadcastSettings.current().allow_emergency_alone:
        raise BroadcastError(_("Tỉnh chưa cho phép một quản trị tự gửi tin khẩn cấp; cần người thứ hai duyệt."))
    if not (reason or "").strip():
        raise BroadcastError(_("Phải ghi rõ lý do gửi khẩn cấp không chờ duyệt."))
    b = _locked(broadcast, {State.DRAFT, State.SUBMITTED}, _("gửi khẩn cấp"))
    if b.severity != Severity.EMERGENCY:
        raise BroadcastError(_("Chỉ tin mức Khẩn cấp mới được gửi không chờ duyệt."))
    now = timezone.now()
    b.state, b.approved_by, b.approved_at, b.submitted_at = State.APPROVED, officer, now, b.submitted_at or now
    b.emergency_alone, b.decision_reason = True, reason.strip()
    b.save()
    _audit(b, officer, "emergency_alone", reason.strip())
    _start_after_commit(b)
    return b


@transaction.atomic
def cancel(broadcast, officer, reason=""):
    """Stops what is not yet sent; what went out stays recorded."""
    _check(officer, APPROVE_PERMISSION)
    b = _locked(broadcast, {State.DRAFT, State.SUBMITTED, State.APPROVED, State.SENDING}, _("hủy"))
    b.state, b.decision_reason = State.CANCELLED, (reason or "").strip()
    b.finished_at = timezone.now()
    b.save()
    Recipient.objects.filter(broadcast=b, status=Recipient.Status.PENDING).update(status=Recipient.Status.SKIPPED)
    _audit(b, officer, "cancel", reason)
    return b


def correction(original, officer, *, title, body, cancellation=False):
    """A correction or cancellation notice: a new broadcast to the same audience, sent after the original."""
    prefix = _("HỦY TIN: ") if cancellation else _("ĐÍNH CHÍNH: ")
    return create(
        officer,
        category=original.category,
        severity=original.severity,
        title=(prefix + title)[:150],
        body=body,
        all_wards=original.all_wards,
        wards=original.wards,
        expires_at=original.expires_at,
        corrects=original,
    )
