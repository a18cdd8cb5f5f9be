"""Dossier actions: the one place that changes a dossier.

Every action locks the dossier row, checks the officer's permission and the transition table,
writes the new state and an append-only timeline entry, and sends `dossier_event` inside the same
transaction; anything outside the database is scheduled with `transaction.on_commit`.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from egov.compiled import prepared_statements
from egov.inserts import insert_rows
from offices.models import Department, Officer
from offices.phones import normalize_phone

from . import deadlines, workflow
from .calendars import current_calendar, cutoff_time
from .codes import SEQUENCE_DIGITS, code_prefix, format_code
from .events import dossier_event, dossier_event_committed
from .models import (
    Channel,
    ComponentKind,
    Dossier,
    DossierComponent,
    DossierEvent,
    MissingComponent,
    Procedure,
    Status,
    SupplementRequest,
    new_lookup_token,
)

RECEPTION_STEP_DAYS = 1  # the one-stop-shop hands a dossier on within one working day

_backdated_to: ContextVar[datetime | None] = ContextVar("dossier_backdated_to", default=None)


def current_time() -> datetime:
    """The time actions are recorded at: the real time, unless entering back-dated records."""
    return _backdated_to.get() or timezone.now()


@contextmanager
def backdated(moment: datetime):
    """Record actions as of `moment` (entering paper records after the fact, or demo data)."""
    token = _backdated_to.set(moment)
    try:
        yield
    finally:
        _backdated_to.reset(token)


class WorkflowError(Exception):
    """An action that cannot be done; `message` is for the officer, in Vietnamese."""

    code = "workflow_error"

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code


class ActionNotAllowed(WorkflowError):
    code = "transition_not_allowed"


class StaleDossier(WorkflowError):
    code = "stale_dossier"


class ActionForbidden(WorkflowError):
    code = "forbidden"


class InvalidInput(WorkflowError):
    code = "invalid_input"


class _SystemActor:
    """The portal itself, acting on no officer's behalf (recorded with no actor)."""

    def __repr__(self):
        return "SYSTEM"


# The only actor besides an Officer that services accept. Pass it explicitly, and only from paths
# no officer initiates: a citizen's online registration, a management command, a scheduled job.
# `None` is never accepted: a request without an officer profile is refused, not run as the system.
SYSTEM = _SystemActor()


@dataclass
class Applicant:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    email: str = ""
    ward_code: str = ""


@dataclass
class SubmittedComponent:
    name: str
    kind: str
    count: int = 1


@dataclass
class MissingItem:
    name: str
    reason: str


@dataclass
class _Change:
    """What an action does besides the status: fields for the event row.

    `citizen_note` is shown to the citizen (status page, API lookup, messages); `internal_note` only
    to officers."""

    citizen_note: str = ""
    internal_note: str = ""
    to_department: Department | None = None
    to_officer: Officer | None = None
    step_due: date | None = None
    extra: dict = field(default_factory=dict)


# --- calendar -------------------------------------------------------------------------------


# `current_calendar` and `cutoff_time` live in `calendars` (selectors and pages read them too).


# --- codes ----------------------------------------------------------------------------------


# The agency's next number of the day, and whether a dossier already has it, in one round trip.
_NEXT_NUMBER_SQL = """
    WITH taken AS (
        INSERT INTO dossiers_dossiercounter (agency_code, day, last) VALUES (%(agency)s, %(day)s, 1)
        ON CONFLICT (agency_code, day) DO UPDATE SET last = dossiers_dossiercounter.last + 1
        RETURNING last
    )
    SELECT last, EXISTS (
        SELECT 1 FROM dossiers_dossier
        WHERE code = %(prefix)s || lpad(last::text, greatest(%(digits)s, length(last::text)), '0')
    )
    FROM taken
"""


def next_dossier_code(agency_code: str, day: date) -> str:
    """<agency code>-<yyMMdd>-<seq>: the next number of the agency's day (DossierCounter).

    The counter is one row per agency and day, i.e. one row for every intake of a province (counter
    and online alike), so how long its lock is held decides how many intakes run at once. Intakes
    call this *before* opening their transaction: the increment is then one autocommitted statement,
    the row is locked for that statement only, and a slow intake (its components, timeline and
    outbox rows, a busy worker) never holds up the next one. Called inside a caller's transaction (a
    command entering many records at once, a test) it takes the number in that transaction, and the
    row stays locked until the caller commits, with no gap possible.

    Gaps are allowed; duplicates never. Codes are unique and increase with the moment the number was
    taken, and a number is never given twice, but an intake that fails after taking its number
    (a database error, a crash: everything that can refuse an intake is checked before the number is
    taken) leaves it unused, so the day's sequence may skip it. Nothing counts on consecutive numbers:
    the register (Mẫu số 06, registers.py) numbers its own rows (STT) and lists the codes it finds,
    officers and citizens use a code as a name, and daily counts are counts of dossiers, never the
    counter. A number already taken (records imported by hand, a restored counter) is skipped."""
    prefix = code_prefix(agency_code, day)
    params = {"agency": agency_code, "day": day, "prefix": prefix, "digits": SEQUENCE_DIGITS}
    with prepared_statements(connection) as cursor:  # parsed and planned once per connection
        while True:
            cursor.execute(_NEXT_NUMBER_SQL, params)
            number, taken = cursor.fetchone()
            if not taken:
                return format_code(agency_code, day, number)


def _agency_code(point=None):
    """The agency code of the dossiers received at `point`: its own, else the province's."""
    from offices.points import point_agency_code
    from provinces.selectors import current_province

    code = point_agency_code(point, current_province())
    if not code:
        raise InvalidInput(_("Tỉnh chưa có mã định danh cơ quan; không thể cấp mã hồ sơ."))
    return code


# --- reception points -----------------------------------------------------------------------


def _point_name(point):
    return point.name if point is not None else ""


def _counter_point(officer):
    """Counter intake: the receiving officer's point (SYSTEM: the province's centre)."""
    from offices.points import province_centre

    if officer is None:
        return province_centre()
    point = officer.department
    _require(
        point.is_reception and point.is_active,
        _("Phòng ban “%(name)s” của bạn không phải là điểm tiếp nhận đang hoạt động; không thể tiếp nhận hồ sơ.")
        % {"name": point.name},
    )
    return point


def _chosen_point(point):
    """Online or postal: the point the citizen chose (a Department or its id), else the province's centre.

    Only an active reception point of this province is accepted: another province's id does not exist
    in this schema, and a processing department or a closed point is refused, in Vietnamese."""
    from offices.points import province_centre

    if point is None or point == "":
        return province_centre()
    pk = point.pk if isinstance(point, Department) else point
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    # Beyond a PostgreSQL integer no row exists (and the query would fail).
    chosen = Department.objects.filter(pk=pk).first() if pk is not None and 0 < pk < 2**31 else None
    _require(chosen is not None, _("Không có điểm tiếp nhận này trong tỉnh; hãy chọn lại nơi nộp hồ sơ."))
    _require(
        chosen.is_reception,
        _("“%(name)s” không phải là điểm tiếp nhận hồ sơ; hãy chọn lại nơi nộp hồ sơ.") % {"name": chosen.name},
    )
    _require(
        chosen.is_active,
        _("Điểm tiếp nhận “%(name)s” đã ngừng hoạt động; hãy chọn nơi nộp hồ sơ khác.") % {"name": chosen.name},
    )
    return chosen


def _check_point_allowed(procedure, point):
    """A procedure received only at some points (Procedure.reception_points; none listed = every point)."""
    allowed = [p.pk for p in procedure.reception_points.all()]
    if allowed and (point is None or point.pk not in allowed):
        raise InvalidInput(
            _("Thủ tục “%(procedure)s” không được tiếp nhận tại “%(point)s”; nơi tiếp nhận thủ tục này: %(where)s.")
            % {
                "procedure": procedure.name,
                "point": _point_name(point) or _("điểm này"),
                "where": ", ".join(p.name for p in procedure.reception_points.all()),
            }
        )


# --- helpers --------------------------------------------------------------------------------


def _require(condition, message):
    if not condition:
        raise InvalidInput(message)


def _clean_applicant(applicant: Applicant) -> Applicant:
    _require((applicant.name or "").strip(), _("Chưa nhập họ tên người nộp hồ sơ."))
    phone = applicant.phone.strip()
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            raise InvalidInput(exc.messages[0]) from None
    id_number = (applicant.id_number or "").replace(" ", "")
    _require(not id_number or id_number.isalnum(), _("Số giấy tờ tùy thân chỉ gồm chữ và số."))
    return Applicant(
        name=" ".join(applicant.name.split()),
        id_number=id_number,
        phone=phone,
        address=applicant.address.strip(),
        email=applicant.email.strip(),
        ward_code=applicant.ward_code.strip(),
    )


def _check_components(procedure: Procedure, components: list[SubmittedComponent]):
    submitted = {c.name for c in components if c.count > 0}
    # .all(): the procedure's list, prefetched by the API's intake; one query otherwise.
    missing = [c.name for c in procedure.components.all() if c.required and c.name not in submitted]
    if missing:
        raise InvalidInput(_("Hồ sơ chưa đủ thành phần bắt buộc: %s.") % "; ".join(missing))


def _check_permission(actor, rule_key: str, dossier: Dossier | None = None):
    """Refuse unless `actor` may perform `rule_key` (a workflow action, "receive" or "reissue_token")
    on `dossier`: the permission AND a performer's place in the table. Seeing is not acting."""
    if actor is SYSTEM:
        return
    if not isinstance(actor, Officer):
        raise ActionForbidden(_("Tài khoản này chưa có hồ sơ cán bộ nên không thể xử lý hồ sơ."))
    if not workflow.has_permission(actor, rule_key):
        raise ActionForbidden(_("Tài khoản của bạn không có quyền thực hiện thao tác này."))
    if not workflow.is_performer(actor, rule_key, dossier):
        rule = workflow.RULES[rule_key]
        if workflow.is_counter_elsewhere(actor, rule_key, dossier):
            raise ActionForbidden(
                _(
                    "Hồ sơ %(code)s được tiếp nhận tại “%(point)s”; chỉ bộ phận một cửa của điểm đó được "
                    "“%(action)s” (kết quả trả tại nơi đã tiếp nhận hồ sơ)."
                )
                % {"code": dossier.code, "point": dossier.reception_point.name, "action": rule.label}
            )
        raise ActionForbidden(
            _("Bạn không được “%(action)s” hồ sơ này: thao tác chỉ dành cho %(who)s.")
            % {"action": rule.label, "who": workflow.performers_text(rule_key)}
        )


def _officer(actor) -> Officer | None:
    """The officer to record: None for the system."""
    return None if actor is SYSTEM else actor


def _notes(citizen_note="", internal_note="", note="") -> _Change:
    """The two notes of an action. A note given without saying whom it is for (`note`) is internal."""
    internal = "\n".join(part.strip() for part in (internal_note or "", note or "") if part and part.strip())
    return _Change(citizen_note=(citizen_note or "").strip(), internal_note=internal)


def _last_step(dossier: Dossier):
    return dossier.events.exclude(step_due=None).order_by("-created_at", "-id").first()


def _record(dossier, action_key, from_status, officer, now, change: _Change, step_grade=""):
    event = DossierEvent(
        dossier=dossier,
        action=action_key,
        from_status=from_status,
        to_status=dossier.status,
        actor=officer,
        from_department=change.extra.get("from_department"),
        to_department=change.to_department,
        from_officer=change.extra.get("from_officer"),
        to_officer=change.to_officer,
        created_at=now,
        citizen_note=change.citizen_note,
        internal_note=change.internal_note,
        step_due=change.step_due,
        step_grade=step_grade,
        appointment_date=dossier.appointment_date,
    )
    event.save()
    # Receivers that must forget the old QR link (the lookup cache) find it here.
    event.previous_lookup_token = change.extra.get("previous_lookup_token")
    dossier_event.send(sender=Dossier, event=event, dossier=dossier)
    transaction.on_commit(lambda: dossier_event_committed.send(sender=Dossier, event=event, dossier=dossier))
    return event


def _apply(dossier_or_pk, action_key, actor, expected_version, mutate, notes: _Change):
    """Lock, check, mutate, bump the version, record the event: one transaction.

    `notes` carries the officer's citizen and internal notes; `mutate` may return a change whose own
    citizen note (a legally required reason, a generated text) comes first."""
    spec = workflow.ACTIONS[action_key]
    pk = dossier_or_pk.pk if isinstance(dossier_or_pk, Dossier) else dossier_or_pk
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().select_related("procedure").get(pk=pk)
        _check_permission(actor, action_key, dossier)
        if expected_version is not None and dossier.version != int(expected_version):
            raise StaleDossier(
                _("Hồ sơ %(code)s vừa được người khác cập nhật; hãy tải lại trang và kiểm tra trước khi thao tác.")
                % {"code": dossier.code}
            )
        if not workflow.is_allowed(action_key, dossier.status):
            raise ActionNotAllowed(
                _("Không thể “%(action)s” khi hồ sơ đang ở trạng thái “%(status)s”.")
                % {"action": spec.label, "status": dossier.get_status_display()}
            )
        now = current_time()
        from_status = dossier.status
        change = (mutate(dossier, now) if mutate else None) or _Change()
        change.citizen_note = "\n".join(n for n in (change.citizen_note, notes.citizen_note) if n)
        change.internal_note = "\n".join(n for n in (change.internal_note, notes.internal_note) if n)
        dossier.status = workflow.target_status(action_key, from_status)
        dossier.version += 1
        dossier.save()
        step_grade = change.extra.pop("step_grade", "")
        _record(dossier, action_key, from_status, _officer(actor), now, change, step_grade)
    return dossier


def _end_step(dossier, now, change: _Change):
    """Close the current holder's step: remember who held it and grade it against its due date."""
    change.extra["from_department"] = dossier.current_department
    change.extra["from_officer"] = dossier.current_officer
    step = _last_step(dossier)
    if step is not None:
        change.extra["step_grade"] = deadlines.grade(now, step.step_due)


# --- intake ---------------------------------------------------------------------------------


def _admit(procedure, applicant, now, point) -> tuple[Applicant, str]:
    """The cleaned applicant and the dossier's code (its point's agency code and daily sequence).
    Everything that can refuse an intake is checked before its number is taken, outside the intake's
    transaction (see `next_dossier_code`)."""
    applicant = _clean_applicant(applicant)
    _require(procedure.is_active, _("Thủ tục này đã ngừng áp dụng."))
    _check_point_allowed(procedure, point)
    return applicant, next_dossier_code(_agency_code(point), timezone.localdate(now))


def _new_dossier(procedure, applicant, code, channel, status, point):
    """Not saved yet: the intake sets its holder and dates first, then inserts it once."""
    return Dossier(
        code=code,
        reception_point=point,
        procedure=procedure,
        channel=channel,
        status=status,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        applicant_phone=applicant.phone,
        applicant_address=applicant.address,
        applicant_email=applicant.email,
        applicant_ward_code=applicant.ward_code,
        fee_amount=procedure.fee,
    )


def _save_new(dossier, components):
    dossier.save()
    insert_rows(
        DossierComponent,
        [DossierComponent(dossier=dossier, name=c.name, kind=c.kind, count=c.count) for c in components if c.count],
    )


def _start_clock(dossier, officer, now):
    calendar = current_calendar()
    dossier.accepted_at = now
    dossier.received_by = officer
    dossier.current_department = officer.department if officer else dossier.procedure.department
    dossier.current_officer = officer
    dossier.appointment_date = deadlines.appointment_date(
        now, dossier.procedure.processing_days, calendar, cutoff_time()
    )
    dossier.original_appointment_date = dossier.appointment_date
    dossier.due_date = dossier.appointment_date
    start = deadlines.receipt_start_date(now, calendar, cutoff_time())
    return min(calendar.add_working_days(start, RECEPTION_STEP_DAYS), max(dossier.appointment_date, start))


def receive_dossier(
    *,
    officer,
    procedure: Procedure,
    applicant: Applicant,
    components,
    channel=Channel.COUNTER,
    citizen_note="",
    internal_note="",
    note="",
) -> Dossier:
    """Counter intake (tiếp nhận): the dossier is created already accepted, with its code and date.

    `officer` is the receiving officer (of a one-stop-shop department), or SYSTEM for records entered
    by a command; anything else is refused before anything is written."""
    components = list(components)
    _check_permission(officer, "receive")
    _check_components(procedure, components)
    notes = _notes(citizen_note, internal_note, note)
    officer = _officer(officer)
    point = _counter_point(officer)
    now = current_time()
    applicant, code = _admit(procedure, applicant, now, point)
    with transaction.atomic():
        dossier = _new_dossier(procedure, applicant, code, channel, Status.ACCEPTED, point)
        step_due = _start_clock(dossier, officer, now)
        _save_new(dossier, components)
        notes.to_department, notes.to_officer, notes.step_due = dossier.current_department, officer, step_due
        dossier.intake_event = _record(dossier, "receive", None, officer, now, notes)  # its whole timeline
    return dossier


def register_online(
    *, procedure: Procedure, applicant: Applicant, components, channel=Channel.ONLINE, reception_point=None
) -> Dossier:
    """A citizen's online or postal application: registered, waiting for an officer to accept it.

    `reception_point` (a Department or its id) is where the citizen will collect the result; none: the
    province's centre. Citizen-initiated: recorded with no actor (the SYSTEM actor), checked by the
    counter of that point on `accept`."""
    components = list(components)
    point = _chosen_point(reception_point)
    now = current_time()
    applicant, code = _admit(procedure, applicant, now, point)
    with transaction.atomic():
        dossier = _new_dossier(procedure, applicant, code, channel, Status.REGISTERED, point)
        dossier.current_department = procedure.department
        _save_new(dossier, components)
        _record(dossier, "register", None, None, now, _Change(to_department=dossier.current_department))
    return dossier


# --- actions --------------------------------------------------------------------------------
# Every action takes `citizen_note` (shown to the citizen) and `internal_note` (officers only); a
# `note` given without saying whom it is for is internal. Reasons the law says the citizen must be
# told (refusal, supplement, apology, stop, withdrawal) are citizen notes.


def accept(dossier, officer, *, expected_version=None, citizen_note="", internal_note="", note=""):
    def mutate(d, now):
        _check_components(d.procedure, [SubmittedComponent(c.name, c.kind, c.count) for c in d.components.all()])
        step_due = _start_clock(d, _officer(officer), now)
        return _Change(to_department=d.current_department, to_officer=_officer(officer), step_due=step_due)

    return _apply(dossier, "accept", officer, expected_version, mutate, _notes(citizen_note, internal_note, note))


def refuse(dossier, officer, *, reason, expected_version=None, internal_note="", note=""):
    _require(reason.strip(), _("Phải ghi rõ lý do từ chối tiếp nhận."))

    def mutate(d, now):
        d.closed_at = now
        return _Change(citizen_note=reason.strip())

    return _apply(dossier, "refuse", officer, expected_version, mutate, _notes("", internal_note, note))


def hand_over(
    dossier,
    officer,
    *,
    to_department,
    to_officer=None,
    step_due=None,
    expected_version=None,
    citizen_note="",
    internal_note="",
    note="",
):
    _require(to_department is not None, _("Chưa chọn phòng ban nhận hồ sơ."))
    _require(
        to_officer is None or to_officer.department_id == to_department.pk,
        _("Cán bộ được chọn không thuộc phòng ban nhận hồ sơ."),
    )

    def mutate(d, now):
        today = deadlines.local_date(now)
        _require(step_due is None or step_due >= today, _("Hạn của bước xử lý không được ở trong quá khứ."))
        due = step_due or max(d.due_date, today)
        change = _Change(to_department=to_department, to_officer=to_officer, step_due=due)
        _end_step(d, now, change)
        d.current_department = to_department
        d.current_officer = to_officer
        return change

    return _apply(dossier, "hand_over", officer, expected_version, mutate, _notes(citizen_note, internal_note, note))


def request_supplement(dossier, officer, *, items, reason="", expected_version=None, internal_note="", note=""):
    """Phiếu yêu cầu bổ sung: every missing component at once, with why; the clock pauses.

    The list and `reason` are told to the citizen (in writing, once)."""
    items = [MissingItem(i.name.strip(), i.reason.strip()) for i in items if i.name.strip()]
    _require(items, _("Phải liệt kê đầy đủ các giấy tờ cần bổ sung (một lần, bằng văn bản)."))
    _require(all(i.reason for i in items), _("Mỗi giấy tờ cần bổ sung phải có lý do."))
    _require(officer is not SYSTEM, _("Phiếu yêu cầu bổ sung phải do một cán bộ lập."))

    def mutate(d, now):
        # The counted days still ahead, never more than the procedure's time (a pause before the clock
        # started, e.g. requested after the cut-off on the receipt day, leaves the full time).
        remaining = deadlines.remaining_working_days(
            now, d.due_date, current_calendar(), processing_days=d.procedure.processing_days
        )
        request = SupplementRequest.objects.create(
            dossier=d,
            requested_at=now,
            requested_by=officer,  # an officer: SYSTEM cannot write a supplement request
            reason=reason.strip(),
            remaining_days=remaining,
            appointment_before=d.appointment_date,
        )
        MissingComponent.objects.bulk_create(
            [MissingComponent(request=request, name=i.name, reason=i.reason) for i in items]
        )
        d.paused_at = now
        d.remaining_days = remaining
        summary = "; ".join(f"{i.name} ({i.reason})" for i in items)
        return _Change(citizen_note=_("Cần bổ sung: %s") % summary + (f". {reason.strip()}" if reason.strip() else ""))

    return _apply(dossier, "request_supplement", officer, expected_version, mutate, _notes("", internal_note, note))


def _supplied(dossier, request, components):
    """What the citizen brought for `request`: every item asked, or nothing is received (the rule: the
    citizen supplies everything asked, once). `components=None` records the items as asked, one copy each.
    A paper given without its kind gets the kind the procedure's list names (else original or copy)."""
    kinds = dict(dossier.procedure.components.values_list("name", "kind"))

    def kind_of(name, kind=""):
        return kind or kinds.get(name, ComponentKind.ORIGINAL_OR_COPY)

    if request is None:
        return [SubmittedComponent(c.name, kind_of(c.name, c.kind), c.count) for c in components or ()]
    asked = [item.name for item in request.items.all()]
    if components is None:
        return [SubmittedComponent(name, kind_of(name)) for name in asked]
    brought = {c.name for c in components if c.count > 0}
    missing = [name for name in asked if name not in brought]
    _require(
        not missing,
        _(
            "Chưa nhận đủ giấy tờ đã yêu cầu bổ sung, còn thiếu: %s. Công dân phải nộp đủ mọi giấy tờ "
            "trong phiếu yêu cầu bổ sung; hồ sơ vẫn ở trạng thái chờ bổ sung."
        )
        % "; ".join(missing),
    )
    return [SubmittedComponent(c.name, kind_of(c.name, c.kind), c.count) for c in components]


def receive_supplement(
    dossier, officer, *, components=None, expected_version=None, citizen_note="", internal_note="", note=""
):
    """The citizen brought what was missing: the clock runs again and a new appointment date is issued.

    `components` are the papers received, which must cover every item of the open request; None means
    each item as asked."""

    def mutate(d, now):
        request = d.supplement_requests.filter(received_at=None).order_by("-requested_at").first()
        supplied = _supplied(d, request, components)
        paused_at = d.paused_at or (request.requested_at if request is not None else now)
        previous = d.appointment_date
        # Decree 118: the time waiting for the citizen does not count. "resume": the dates move by exactly
        # the working days the clock was stopped (none for a pause within one day); "restart": full time again.
        resumed = deadlines.resume_clock(
            paused_at,
            now,
            due=d.due_date,
            appointment=d.appointment_date,
            processing_days=d.procedure.processing_days,
            mode=d.procedure.on_supplement,
            calendar=current_calendar(),
            cutoff=cutoff_time(),
        )
        new_date = resumed.appointment
        if request is not None:
            request.received_at = now
            request.appointment_after = new_date
            request.save(update_fields=["received_at", "appointment_after"])
        insert_rows(
            DossierComponent,
            [
                DossierComponent(dossier=d, name=c.name, kind=c.kind, count=c.count, added_by_supplement=True)
                for c in supplied
                if c.count
            ],
        )
        d.appointment_date = new_date
        d.due_date = resumed.due
        d.paused_at = None
        d.remaining_days = None
        if new_date == previous:
            text = _("Đã nhận hồ sơ bổ sung; ngày hẹn trả không thay đổi: %s.") % f"{new_date:%d/%m/%Y}"
        else:
            text = _("Đã nhận hồ sơ bổ sung; ngày hẹn trả mới: %(new)s (trước đây: %(old)s).") % {
                "new": f"{new_date:%d/%m/%Y}",
                "old": f"{previous:%d/%m/%Y}" if previous else "—",
            }
        return _Change(citizen_note=text)

    notes = _notes(citizen_note, internal_note, note)
    return _apply(dossier, "receive_supplement", officer, expected_version, mutate, notes)


def request_fees(dossier, officer, *, amount, expected_version=None, citizen_note="", internal_note="", note=""):
    _require(int(amount or 0) > 0, _("Số tiền phải nộp phải lớn hơn 0."))

    def mutate(d, now):
        d.fee_amount = int(amount)
        return _Change(citizen_note=_("Số tiền phải nộp: %s đồng.") % f"{int(amount):,}".replace(",", "."))

    notes = _notes(citizen_note, internal_note, note)
    return _apply(dossier, "request_fees", officer, expected_version, mutate, notes)


def record_fees_paid(dossier, officer, *, expected_version=None, citizen_note="", internal_note="", note=""):
    notes = _notes(citizen_note, internal_note, note)
    return _apply(dossier, "record_fees_paid", officer, expected_version, None, notes)


def postpone(dossier, officer, *, new_date, reason, expected_version=None, internal_note="", note=""):
    """Phiếu xin lỗi và hẹn lại ngày trả: a later appointment date, with the reason (told to the citizen)."""
    _require(reason.strip(), _("Phải ghi rõ lý do chậm trả kết quả."))

    def mutate(d, now):
        _require(
            new_date > d.appointment_date,
            _("Ngày hẹn mới phải sau ngày hẹn hiện tại (%s).") % f"{d.appointment_date:%d/%m/%Y}",
        )
        _require(current_calendar().is_working_day(new_date), _("Ngày hẹn mới phải là ngày làm việc."))
        previous = d.appointment_date
        d.appointment_date = new_date
        return _Change(citizen_note=reason.strip(), extra={"previous_appointment": previous})

    return _apply(dossier, "postpone", officer, expected_version, mutate, _notes("", internal_note, note))


def _close_with_reason(reason):
    """The mutation of the actions that end a dossier early (stop, withdraw): closed now, clock off."""

    def mutate(d, now):
        d.closed_at = now
        d.paused_at = None
        return _Change(citizen_note=reason.strip())

    return mutate


def stop(dossier, officer, *, reason, expected_version=None, internal_note="", note=""):
    _require(reason.strip(), _("Phải ghi rõ lý do dừng xử lý."))
    notes = _notes("", internal_note, note)
    return _apply(dossier, "stop", officer, expected_version, _close_with_reason(reason), notes)


def mark_result_ready(dossier, officer, *, result, expected_version=None, citizen_note="", internal_note="", note=""):
    """The leader signs the result; the dossier is graded early / on time / late."""
    _require(result.strip(), _("Phải ghi kết quả giải quyết."))

    def mutate(d, now):
        change = _Change(to_department=d.current_department, to_officer=None)
        _end_step(d, now, change)
        # Signed: the department keeps the result until the counter returns it; no officer holds it.
        d.current_officer = None
        d.result = result.strip()
        d.result_ready_at = now
        # Graded against the legal due date: an apology's new appointment does not excuse lateness.
        d.grade = deadlines.grade(now, d.due_date)
        return change

    notes = _notes(citizen_note, internal_note, note)
    return _apply(dossier, "mark_result_ready", officer, expected_version, mutate, notes)


def return_result(dossier, officer, *, expected_version=None, citizen_note="", internal_note="", note=""):
    def mutate(d, now):
        d.returned_at = now
        d.closed_at = now
        # Closed: it stays filed with the department that decided it (its lists and statistics); no officer
        # holds it. The counter officer who handed the result over is the event's actor.
        d.current_officer = None
        return None

    notes = _notes(citizen_note, internal_note, note)
    return _apply(dossier, "return_result", officer, expected_version, mutate, notes)


def withdraw(dossier, officer, *, reason, expected_version=None, internal_note="", note=""):
    _require(reason.strip(), _("Phải ghi lý do rút hồ sơ (theo đơn của công dân)."))
    notes = _notes("", internal_note, note)
    return _apply(dossier, "withdraw", officer, expected_version, _close_with_reason(reason), notes)


def reissue_lookup_token(dossier, officer, *, expected_version=None, internal_note="", note=""):
    """Lost receipt: a new QR token; the old link stops working at once. Status is unchanged.

    Done at the counter; its note is internal (it may name the ID paper the citizen showed)."""

    notes = _notes("", internal_note, note)

    def mutate(d, now):
        change = _Change(
            internal_note="" if notes.internal_note else _("Cấp lại giấy tiếp nhận; mã QR cũ hết hiệu lực.")
        )
        change.extra["previous_lookup_token"] = d.lookup_token
        d.lookup_token = new_lookup_token()
        return change

    return _apply(dossier, "reissue_token", officer, expected_version, mutate, notes)


# Each action on a dossier, by its key: the function named in the registry (`workflow.REGISTRY`).
ACTION_FUNCTIONS = {key: globals()[spec.service_name] for key, spec in workflow.ACTIONS.items()}
