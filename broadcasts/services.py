"""The only code that changes a broadcast or the province's broadcast settings.

Every action locks the row, checks who acts and the state, refuses a stale form (the `version` the
officer read), bumps the version and writes an append-only audit entry in the same transaction.
The admin, the delivery code and the commands all call these functions.

The two-person rule: a broadcast is approved by a province admin who neither created it, nor edited
its content, nor submitted it, at any time since it was created ("since the draft began" is the
whole life of the broadcast: returning to draft never wipes the list). Editing a submitted or
rejected broadcast sends it back to draft, so what is approved is always what was submitted.
The single-admin emergency path needs the province setting, which one province admin cannot turn on
alone: the national operator turns it on, or a second province admin approves a first one's request.
"""

import redis
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import stopping
from .models import AuditEntry, Broadcast, BroadcastSettings, Recipient, SettingsAuditEntry, Severity, State


class BroadcastError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = str(message)


class StaleBroadcast(BroadcastError):
    """The form was read before someone else changed the broadcast (or the settings)."""


CREATE_PERMISSION = "broadcasts.add_broadcast"
APPROVE_PERMISSION = "broadcasts.approve_broadcast"
SETTINGS_PERMISSION = "broadcasts.change_broadcastsettings"

# What a composer may set; everything else (state, approver, times, counters) is the services' own.
EDITABLE_FIELDS = ("category", "severity", "title", "body", "link", "all_wards", "wards", "scheduled_at", "expires_at")
EDITABLE_STATES = (State.DRAFT, State.SUBMITTED, State.REJECTED)
# Audit actions whose actor may not approve the broadcast (besides its author).
CONFLICTING_ACTIONS = ("create", "edit", "submit")


def _check(officer, permission):
    if officer is None or not officer.user.is_active or not officer.user.has_perm(permission):
        raise BroadcastError(_("Chỉ quản trị tỉnh được soạn, duyệt và gửi tin cảnh báo."))


def _audit(broadcast, officer, action, note=""):
    AuditEntry.objects.create(broadcast=broadcast, actor=officer, action=action, note=note)


def _pk(broadcast_or_pk):
    return broadcast_or_pk.pk if isinstance(broadcast_or_pk, Broadcast) else broadcast_or_pk


def _stale_check(row, expected_version, message):
    if expected_version is None:
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise StaleBroadcast(message) from None
    if row.version != expected:
        raise StaleBroadcast(message)


def _locked(broadcast, allowed, label, expected_version=None):
    b = Broadcast.objects.select_for_update().get(pk=_pk(broadcast))
    _stale_check(
        b,
        expected_version,
        _("Tin “%(title)s” vừa được người khác thay đổi; hãy tải lại trang, xem lại nội dung rồi thao tác lại.")
        % {"title": b.title},
    )
    if b.state not in allowed:
        raise BroadcastError(
            _("Không thể %(action)s tin đang ở trạng thái “%(state)s”.")
            % {"action": label, "state": b.get_state_display()}
        )
    return b


def _write(b, *fields):
    """Save the locked row's changed fields and bump its version."""
    b.version += 1
    b.save(update_fields=[*fields, "version"])


def _validate(b):
    try:
        b.full_clean(exclude=["created_by", "approved_by", "corrects"])
    except ValidationError as exc:
        raise BroadcastError(" ".join(exc.messages)) from None


def _start_after_commit(b):
    from .tasks import start_broadcast

    eta = b.scheduled_at if b.scheduled_at and b.scheduled_at > timezone.now() else None
    transaction.on_commit(lambda: start_broadcast.apply_async((b.pk,), eta=eta))


def _shown(value):
    if value is None or value == "" or value == []:
        return "—"
    if hasattr(value, "tzinfo"):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
    text = ", ".join(value) if isinstance(value, list) else str(value)
    return text if len(text) <= 120 else text[:119] + "…"


# --- composing ---------------------------------------------------------------------------------


def create(officer, *, corrects=None, **fields) -> Broadcast:
    _check(officer, CREATE_PERMISSION)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise BroadcastError(_("Không thể đặt trường: %s.") % ", ".join(sorted(unknown)))
    fields = {k: ("" if k == "link" and v is None else v) for k, v in fields.items()}
    with transaction.atomic():
        b = Broadcast(created_by=officer, corrects=corrects, **fields)
        _validate(b)
        b.save()
        _audit(b, officer, "create")
    return b


def edit(broadcast, officer, *, expected_version, **fields) -> Broadcast:
    """Change the content of a draft; a submitted or rejected broadcast goes back to draft first.

    Refused once approved (cancel it, or send a correction), and refused when the form is stale.
    """
    _check(officer, CREATE_PERMISSION)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise BroadcastError(_("Không thể sửa trường: %s.") % ", ".join(sorted(unknown)))
    fields = {k: ("" if k == "link" and v is None else v) for k, v in fields.items()}
    with transaction.atomic():
        # A missing version counts as stale: an edit must say which version of the content it changes.
        b = _locked(broadcast, set(State), _("sửa"), "" if expected_version is None else expected_version)
        if b.state not in EDITABLE_STATES:
            raise BroadcastError(
                _("Tin đang ở trạng thái “%(state)s” không sửa được; nếu cần, hãy hủy tin hoặc soạn tin đính chính.")
                % {"state": b.get_state_display()}
            )
        changed = {name: value for name, value in fields.items() if getattr(b, name) != value}
        if not changed:
            return b
        before = {name: getattr(b, name) for name in changed}
        for name, value in changed.items():
            setattr(b, name, value)
        _validate(b)
        if b.state != State.DRAFT:
            previous = b.get_state_display()
            b.state, b.submitted_at = State.DRAFT, None
            _audit(
                b,
                officer,
                "return_to_draft",
                _("Sửa khi tin đang ở trạng thái “%(state)s”: phải trình duyệt lại.") % {"state": previous},
            )
        _write(b, *changed, "state", "submitted_at")
        note = "\n".join(
            f"{Broadcast._meta.get_field(name).verbose_name}: {_shown(before[name])} → {_shown(changed[name])}"
            for name in changed
        )
        _audit(b, officer, "edit", note)
    return b


def excluded_approvers(broadcast) -> set[int]:
    """Officer ids who may not approve: the author, every editor and every submitter since creation."""
    actors = AuditEntry.objects.filter(broadcast_id=_pk(broadcast), action__in=CONFLICTING_ACTIONS).values_list(
        "actor_id", flat=True
    )
    created_by = Broadcast.objects.filter(pk=_pk(broadcast)).values_list("created_by_id", flat=True)
    return {pk for pk in [*actors, *created_by] if pk is not None}


@transaction.atomic
def submit(broadcast, officer, *, expected_version=None):
    _check(officer, CREATE_PERMISSION)
    b = _locked(broadcast, {State.DRAFT}, _("trình duyệt"), expected_version)
    b.state, b.submitted_at = State.SUBMITTED, timezone.now()
    _write(b, "state", "submitted_at")
    _audit(b, officer, "submit")
    return b


@transaction.atomic
def return_to_draft(broadcast, officer, reason="", *, expected_version=None):
    """Take a submitted or rejected broadcast back to draft (to rework it); it must be submitted again."""
    _check(officer, CREATE_PERMISSION)
    b = _locked(broadcast, {State.SUBMITTED, State.REJECTED}, _("đưa về bản nháp"), expected_version)
    b.state, b.submitted_at = State.DRAFT, None
    _write(b, "state", "submitted_at")
    _audit(b, officer, "return_to_draft", (reason or "").strip())
    return b


# --- deciding ----------------------------------------------------------------------------------


@transaction.atomic
def approve(broadcast, officer, *, expected_version=None):
    _check(officer, APPROVE_PERMISSION)
    b = _locked(broadcast, {State.SUBMITTED}, _("duyệt"), expected_version)
    if officer.pk in excluded_approvers(b):
        raise BroadcastError(
            _("Không ai được tự duyệt tin mình đã soạn, sửa hoặc trình duyệt: cần một quản trị khác duyệt.")
        )
    b.state, b.approved_by, b.approved_at = State.APPROVED, officer, timezone.now()
    _write(b, "state", "approved_by", "approved_at")
    _audit(b, officer, "approve")
    _start_after_commit(b)
    return b


@transaction.atomic
def reject(broadcast, officer, reason, *, expected_version=None):
    _check(officer, APPROVE_PERMISSION)
    if not (reason or "").strip():
        raise BroadcastError(_("Phải ghi lý do từ chối."))
    b = _locked(broadcast, {State.SUBMITTED}, _("từ chối"), expected_version)
    b.state, b.decision_reason = State.REJECTED, reason.strip()
    _write(b, "state", "decision_reason")
    _audit(b, officer, "reject", reason.strip())
    return b


@transaction.atomic
def send_emergency_alone(broadcast, officer, reason, *, expected_version=None):
    """The single-admin path: only for emergencies, only where the province allows it, with a reason."""
    _check(officer, APPROVE_PERMISSION)
    if not BroadcastSettings.current().allow_emergency_alone:
        raise BroadcastError(_("Tỉnh chưa cho phép một quản trị tự gửi tin khẩn cấp; cần người thứ hai duyệt."))
    if not (reason or "").strip():
        raise BroadcastError(_("Phải ghi rõ lý do gửi khẩn cấp không chờ duyệt."))
    b = _locked(broadcast, {State.DRAFT, State.SUBMITTED}, _("gửi khẩn cấp"), expected_version)
    if b.severity != Severity.EMERGENCY:
        raise BroadcastError(_("Chỉ tin mức Khẩn cấp mới được gửi không chờ duyệt."))
    now = timezone.now()
    b.state, b.approved_by, b.approved_at, b.submitted_at = State.APPROVED, officer, now, b.submitted_at or now
    b.emergency_alone, b.decision_reason = True, reason.strip()
    _write(b, "state", "approved_by", "approved_at", "submitted_at", "emergency_alone", "decision_reason")
    _audit(b, officer, "emergency_alone", reason.strip())
    _start_after_commit(b)
    return b


def cancel(broadcast, officer, reason="", *, expected_version=None):
    """Stops what is not yet sent; what went out stays recorded.

    The cancellation flag (`stopping`) is raised while the row is locked, before the commit, so that
    once this returns every worker sees it before its next send (only a message already on the wire
    may still go out); the pending recipients are skipped and no recipient can be claimed any more.
    """
    _check(officer, APPROVE_PERMISSION)
    raised = None
    try:
        with transaction.atomic():
            b = _locked(
                broadcast, {State.DRAFT, State.SUBMITTED, State.APPROVED, State.SENDING}, _("hủy"), expected_version
            )
            try:
                stopping.raise_flag(b.pk)
            except redis.RedisError:
                raise BroadcastError(_("Không dừng được việc gửi tin lúc này; hãy thử hủy lại.")) from None
            raised = b.pk
            b.state, b.decision_reason = State.CANCELLED, (reason or "").strip()
            b.finished_at = timezone.now()
            _write(b, "state", "decision_reason", "finished_at")
            Recipient.objects.filter(broadcast=b, status=Recipient.Status.PENDING).update(
                status=Recipient.Status.SKIPPED
            )
            _audit(b, officer, "cancel", reason)
    except BaseException:
        if raised is not None:
            stopping.lower_flag(raised)  # nothing was cancelled: the sends go on
        raise
    return b


def correction(original, officer, *, title, body, cancellation=False):
    """A correction or cancellation notice: a new broadcast to the same audience, sent after the original."""
    prefix = _("HỦY TIN: ") if cancellation else _("ĐÍNH CHÍNH: ")
    with transaction.atomic():
        new = create(
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
        _audit(
            original,
            officer,
            "correct",
            _("Tin đính chính/hủy số %(pk)s: %(title)s") % {"pk": new.pk, "title": new.title},
        )
    return new


# --- delivery's transitions (the worker acts as "system": no officer) ----------------------------


def begin_sending(broadcast_id):
    """APPROVED → SENDING. Returns (broadcast, "started"), (broadcast, "wait") or (None, "skip")."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        if b.state != State.APPROVED:
            return None, "skip"
        if b.corrects_id and b.corrects.state in (State.APPROVED, State.SENDING):
            return b, "wait"  # a correction goes out after the original
        b.state, b.started_at = State.SENDING, timezone.now()
        _write(b, "state", "started_at")
        _audit(b, None, "start")
    return b, "started"


def record_fan_out(broadcast_id, total):
    """Per-follower delivery: every recipient row is written; `total` of them."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        b.total_recipients, b.delivery_mode = total, "per_follower"
        _write(b, "total_recipients", "delivery_mode")
        _audit(b, None, "fan_out", _("%(total)s người nhận, gửi từng người") % {"total": total})


def record_article_sent(broadcast_id, total):
    """The article broadcast went out: SENDING → SENT (a broadcast cancelled meanwhile stays cancelled)."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        b.delivery_mode, b.total_recipients = "article", total
        fields = ["delivery_mode", "total_recipients"]
        if b.state == State.SENDING:
            b.state, b.finished_at = State.SENT, timezone.now()
            fields += ["state", "finished_at"]
        _write(b, *fields)
        _audit(b, None, "sent", _("Gửi một bài viết cho %(total)s người quan tâm") % {"total": total})


def record_article_fallback(broadcast_id, reason):
    """The article broadcast was not possible: it goes per follower instead, and its audit says why
    (the admin page shows that entry; `delivery_mode` is set by `record_fan_out` once every recipient is
    written)."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        _audit(b, None, "article_fallback", str(reason)[:1000])


def finish_sending(broadcast_id, unfinished):
    """SENDING → SENT once `unfinished(broadcast)` is False; a no-op before the recipients are all written."""
    with transaction.atomic():
        b = Broadcast.objects.select_for_update().get(pk=broadcast_id)
        if b.state != State.SENDING or b.delivery_mode != "per_follower":
            return False  # not started, cancelled, or its recipients are still being written
        if unfinished(b):
            return False
        b.state, b.finished_at = State.SENT, timezone.now()
        _write(b, "state", "finished_at")
        _audit(b, None, "sent")
    return True


# --- the province's settings -------------------------------------------------------------------


def _check_settings(officer):
    if (
        officer is None
        or not officer.user.is_active
        or not officer.user.has_perm(SETTINGS_PERMISSION)
        or not officer.user.has_perm(APPROVE_PERMISSION)
    ):
        raise BroadcastError(_("Chỉ quản trị tỉnh được thay đổi cấu hình tin cảnh báo."))


def _settings_locked(expected_version=None):
    s = BroadcastSettings.objects.select_for_update().order_by("pk").first()
    if s is None:
        s = BroadcastSettings.objects.create()
    _stale_check(
        s,
        expected_version,
        _("Cấu hình tin cảnh báo vừa được người khác thay đổi; hãy tải lại trang rồi thao tác lại."),
    )
    return s


def _settings_write(s, *fields):
    s.version += 1
    s.save(update_fields=[*fields, "version"])


def _settings_audit(officer, action, note="", actor_name=""):
    name = actor_name or (officer.user.get_username() if officer else "")
    SettingsAuditEntry.objects.create(actor=officer, actor_name=name[:150], action=action, note=note)


def _clear_request(s):
    s.emergency_alone_requested_by, s.emergency_alone_requested_at, s.emergency_alone_request_reason = None, None, ""


REQUEST_FIELDS = ("emergency_alone_requested_by", "emergency_alone_requested_at", "emergency_alone_request_reason")


@transaction.atomic
def update_settings(officer, *, rate_per_minute, expected_version=None):
    """What one province admin may change alone (the sending rate)."""
    _check_settings(officer)
    if rate_per_minute is None or int(rate_per_minute) < 0:
        raise BroadcastError(_("Giới hạn gửi mỗi phút phải là số không âm."))
    s = _settings_locked(expected_version)
    if s.rate_per_minute == int(rate_per_minute):
        return s
    before, s.rate_per_minute = s.rate_per_minute, int(rate_per_minute)
    _settings_write(s, "rate_per_minute")
    _settings_audit(officer, "rate_per_minute", f"{before} → {s.rate_per_minute}")
    return s


@transaction.atomic
def request_emergency_alone(officer, reason, *, expected_version=None):
    """First of two province admins: ask to let one admin send emergencies alone."""
    _check_settings(officer)
    if not (reason or "").strip():
        raise BroadcastError(_("Phải ghi lý do đề nghị."))
    s = _settings_locked(expected_version)
    if s.allow_emergency_alone:
        raise BroadcastError(_("Tỉnh đã cho phép một quản trị gửi tin khẩn cấp."))
    if s.emergency_alone_requested_by_id and s.emergency_alone_requested_by_id != officer.pk:
        raise BroadcastError(
            _("Đã có đề nghị của %(name)s đang chờ duyệt; hãy duyệt hoặc từ chối đề nghị đó.")
            % {"name": s.emergency_alone_requested_by}
        )
    s.emergency_alone_requested_by, s.emergency_alone_requested_at = officer, timezone.now()
    s.emergency_alone_request_reason = reason.strip()
    _settings_write(s, *REQUEST_FIELDS)
    _settings_audit(officer, "request_emergency_alone", reason.strip())
    return s


@transaction.atomic
def approve_emergency_alone(officer, *, expected_version=None):
    """Second province admin (not the one who asked): turns "emergency alone" on."""
    _check_settings(officer)
    s = _settings_locked(expected_version)
    if s.emergency_alone_requested_by_id is None:
        raise BroadcastError(_("Không có đề nghị nào đang chờ duyệt."))
    if s.emergency_alone_requested_by_id == officer.pk:
        raise BroadcastError(_("Người đề nghị không được tự duyệt: cần một quản trị tỉnh khác duyệt."))
    requester = s.emergency_alone_requested_by
    s.allow_emergency_alone = True
    _clear_request(s)
    _settings_write(s, "allow_emergency_alone", *REQUEST_FIELDS)
    _settings_audit(officer, "approve_emergency_alone", _("Duyệt đề nghị của %(name)s") % {"name": requester})
    return s


@transaction.atomic
def decline_emergency_alone(officer, reason="", *, expected_version=None):
    """Any province admin may withdraw or decline a pending request."""
    _check_settings(officer)
    s = _settings_locked(expected_version)
    if s.emergency_alone_requested_by_id is None:
        raise BroadcastError(_("Không có đề nghị nào đang chờ duyệt."))
    requester = s.emergency_alone_requested_by
    _clear_request(s)
    _settings_write(s, *REQUEST_FIELDS)
    note = _("Đề nghị của %(name)s") % {"name": requester}
    _settings_audit(officer, "decline_emergency_alone", f"{note}. {(reason or '').strip()}".strip(". "))
    return s


@transaction.atomic
def turn_off_emergency_alone(officer, reason="", *, expected_version=None):
    """One province admin may always make the rule stricter."""
    _check_settings(officer)
    s = _settings_locked(expected_version)
    if not s.allow_emergency_alone and s.emergency_alone_requested_by_id is None:
        return s
    s.allow_emergency_alone = False
    _clear_request(s)
    _settings_write(s, "allow_emergency_alone", *REQUEST_FIELDS)
    _settings_audit(officer, "turn_off_emergency_alone", (reason or "").strip())
    return s


@transaction.atomic
def set_emergency_alone_by_national(on, operator, reason=""):
    """The national operator (the `set_emergency_alone` command) turns the rule on or off for a province."""
    operator = (operator or "").strip()
    if not operator:
        raise BroadcastError(_("Phải ghi tên người vận hành cấp quốc gia."))
    s = _settings_locked()
    s.allow_emergency_alone = bool(on)
    _clear_request(s)
    _settings_write(s, "allow_emergency_alone", *REQUEST_FIELDS)
    _settings_audit(
        None,
        "national_emergency_alone_on" if on else "national_emergency_alone_off",
        (reason or "").strip(),
        actor_name=_("quốc gia: %(name)s") % {"name": operator},
    )
    return s
