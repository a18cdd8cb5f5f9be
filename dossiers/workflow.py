"""The transition table over the national statuses, as data.

Each action names the statuses it may start from, the status it leads to (None: unchanged), the
permission an officer needs and WHO may perform it, relative to the dossier:

- ``holder``: an officer of the department currently holding the dossier;
- ``holder_leader``: a leader (an officer who may sign results) of the holding department;
- ``counter``: an officer of a one-stop-shop (reception) department — intake, online registrations,
  supplements and fees brought to the counter, returning results, withdrawal at the counter — and, on
  an existing dossier, only of the reception point where it was received (`Dossier.reception_point`):
  the result is returned where the dossier was handed in. A dossier without a point (none could be
  found for an old row) may be served by any counter.

An officer may perform an action only with its permission AND one of its performers' places: seeing
a dossier (``view_all_dossiers``) never grants an action. `dossiers/services.py` is the only caller
that applies the table; the admin and the API offer exactly the actions `actions_for` returns.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Grade, Status

S = Status

HOLDER = "holder"
HOLDER_LEADER = "holder_leader"
COUNTER = "counter"
PERFORMERS = {
    HOLDER: _("phòng ban đang giữ hồ sơ"),
    HOLDER_LEADER: _("lãnh đạo phòng ban đang giữ hồ sơ"),
    COUNTER: _("bộ phận một cửa"),
}
# What makes an officer a leader of their department: the right to sign results.
LEADER_PERMISSION = "dossiers.sign_result"


# What the API takes from a request body besides the version (everything else is ignored). Every action
# takes an internal note (`note` is internal too); a citizen note only where the reason is not already
# the public text.
NOTES = ("citizen_note", "internal_note", "note")
INTERNAL = ("internal_note", "note")

# Where an action is started from.
ON_DOSSIER = "dossier"  # on an existing dossier: the dossier's admin page and POST /dossiers/{id}/actions/{key}/
INTAKE = "intake"  # creates the dossier at the counter: the admin's "Tiếp nhận hồ sơ" page
CITIZEN = "citizen"  # creates the dossier from the citizen's side (online or postal registration)

# The message the citizen gets (a `notifications.Kind` value); a result depends on its grade.
RESULT_MESSAGE = "result"


@dataclass(frozen=True)
class Action:
    """Everything the portal knows about one action; the admin, the API, the public page and the
    notifications derive from it (see `dossiers/tests/test_registry.py`)."""

    key: str
    label: str
    sources: frozenset
    target: int | None  # None keeps the current status
    permission: str
    performers: frozenset
    entry: str = ON_DOSSIER
    form: str | None = None  # the admin form: a class name in `dossiers.forms`
    fields: tuple = ()  # what the API accepts in the body
    required: tuple = ()  # of which these must be given
    citizen_sees: bool = True  # on the citizen's timeline (status page, API lookup)
    message: str | None = None  # the message kind the event sends the citizen
    function: str = ""  # the `dossiers.services` function that performs it

    @property
    def service_name(self) -> str:
        return self.function or self.key


def action(key, label, sources, target, permission, performers, **spec):
    if not performers or not set(performers) <= set(PERFORMERS):
        raise ValueError(f"action {key}: performers must be a non-empty subset of {sorted(PERFORMERS)}")
    if not set(spec.get("required", ())) <= set(spec.get("fields", ())):
        raise ValueError(f"action {key}: required fields must be among its fields")
    return Action(key, label, frozenset(sources), target, f"dossiers.{permission}", frozenset(performers), **spec)


WORKING = {S.ACCEPTED, S.IN_PROGRESS}
OPEN_STATUSES = frozenset({S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES, S.RESULT_READY})
PAUSED_STATUSES = frozenset({S.SUPPLEMENT})
FINAL_STATUSES = frozenset({S.REFUSED, S.WITHDRAWN, S.STOPPED, S.RETURNED})
ALL_STATUSES = frozenset(S.values)

REGISTRY = {
    a.key: a
    for a in (
        # Counter intake creates the dossier directly as accepted (the admin's add page).
        action(
            "receive",
            _("Tiếp nhận hồ sơ"),
            (),
            S.ACCEPTED,
            "receive_dossier",
            {COUNTER},
            entry=INTAKE,
            form="IntakeForm",
            fields=("procedure", "applicant", "components", "channel", *NOTES),
            required=("procedure", "applicant", "components"),
            message="receipt",
            function="receive_dossier",
        ),
        # Online and postal applications start as registered, with no officer; the counter accepts or refuses.
        Action(
            "register",
            _("Đăng ký trực tuyến"),
            frozenset(),
            S.REGISTERED,
            "",
            frozenset(),
            entry=CITIZEN,
            function="register_online",
        ),
        action(
            "accept",
            _("Tiếp nhận"),
            {S.REGISTERED},
            S.ACCEPTED,
            "receive_dossier",
            {COUNTER},
            form="NoteForm",
            fields=NOTES,
            message="receipt",
        ),
        action(
            "refuse",
            _("Từ chối tiếp nhận"),
            {S.REGISTERED},
            S.REFUSED,
            "receive_dossier",
            {COUNTER},
            form="ReasonForm",
            fields=("reason", *INTERNAL),
            required=("reason",),
        ),
        action(
            "hand_over",
            _("Chuyển xử lý"),
            WORKING,
            S.IN_PROGRESS,
            "hand_over_dossier",
            {HOLDER},
            form="HandOverForm",
            fields=("to_department", "to_officer", "step_due", *NOTES),
            required=("to_department",),
        ),
        # While the dossier is still at the counter, the counter is its holder.
        action(
            "request_supplement",
            _("Yêu cầu bổ sung"),
            WORKING,
            S.SUPPLEMENT,
            "request_supplement",
            {HOLDER},
            form="RequestSupplementForm",
            fields=("items", "reason", *INTERNAL),
            required=("items",),
            message="supplement",
        ),
        # The citizen brings the missing papers to the counter (or to the holder).
        action(
            "receive_supplement",
            _("Nhận hồ sơ bổ sung"),
            {S.SUPPLEMENT},
            S.IN_PROGRESS,
            "request_supplement",
            {HOLDER, COUNTER},
            form="ReceiveSupplementForm",
            fields=("components", *NOTES),
            message="new_appointment",
        ),
        action(
            "request_fees",
            _("Yêu cầu nộp phí, thuế"),
            WORKING,
            S.FEES,
            "request_fees",
            {HOLDER, COUNTER},
            form="RequestFeesForm",
            fields=("amount", *NOTES),
            required=("amount",),
        ),
        action(
            "record_fees_paid",
            _("Xác nhận đã nộp phí, thuế"),
            {S.FEES},
            S.IN_PROGRESS,
            "request_fees",
            {HOLDER, COUNTER},
            form="NoteForm",
            fields=NOTES,
        ),
        action(
            "postpone",
            _("Xin lỗi, hẹn lại ngày trả"),
            WORKING | {S.FEES},
            None,
            "postpone_dossier",
            {HOLDER, HOLDER_LEADER},
            form="PostponeForm",
            fields=("new_date", "reason", *INTERNAL),
            required=("new_date", "reason"),
            message="apology",
        ),
        action(
            "stop",
            _("Dừng xử lý"),
            WORKING | {S.SUPPLEMENT, S.FEES},
            S.STOPPED,
            "stop_dossier",
            {HOLDER_LEADER},
            form="ReasonForm",
            fields=("reason", *INTERNAL),
            required=("reason",),
        ),
        action(
            "mark_result_ready",
            _("Duyệt kết quả"),
            WORKING,
            S.RESULT_READY,
            "sign_result",
            {HOLDER_LEADER},
            form="ResultForm",
            fields=("result", *NOTES),
            required=("result",),
            message=RESULT_MESSAGE,
        ),
        action(
            "return_result",
            _("Trả kết quả"),
            {S.RESULT_READY},
            S.RETURNED,
            "return_result",
            {COUNTER},
            form="NoteForm",
            fields=NOTES,
        ),
        action(
            "withdraw",
            _("Rút hồ sơ theo yêu cầu công dân"),
            {S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES},
            S.WITHDRAWN,
            "receive_dossier",
            {COUNTER},
            form="ReasonForm",
            fields=("reason", *INTERNAL),
            required=("reason",),
        ),
        # Lost receipt: a new QR token, the old link dead at once; the status does not change. Its note is
        # internal (it may name the ID paper the citizen showed), and the citizen's timeline does not show it.
        action(
            "reissue_token",
            _("Cấp lại giấy tiếp nhận (mã QR mới)"),
            ALL_STATUSES,
            None,
            "receive_dossier",
            {COUNTER},
            form="InternalNoteForm",
            fields=INTERNAL,
            citizen_sees=False,
            function="reissue_lookup_token",
        ),
    )
}

# The actions on an existing dossier: what the dossier page and the API's actions endpoint offer.
ACTIONS = {key: a for key, a in REGISTRY.items() if a.entry == ON_DOSSIER}
RECEIVE = REGISTRY["receive"]
REISSUE_TOKEN = REGISTRY["reissue_token"]
RECEIVE_PERMISSION = RECEIVE.permission
RULES = {key: a for key, a in REGISTRY.items() if a.performers}

EVENT_LABELS = {key: a.label for key, a in REGISTRY.items()}
# Timeline entries the citizen does not see.
HIDDEN_FROM_CITIZEN = frozenset(key for key, a in REGISTRY.items() if not a.citizen_sees)


def label_or_key(action_key: str):
    """An event's label, lazy (translated when shown); an action no longer in the registry: its key."""
    spec = REGISTRY.get(action_key)
    return spec.label if spec else action_key


def label_of(action_key: str) -> str:
    """An event's label in the active language; an action no longer in the registry shows its key."""
    return str(label_or_key(action_key))


def message_kind(action_key: str, dossier) -> str | None:
    """The message (a `notifications.Kind` value) an event of `action_key` sends the citizen, if any."""
    spec = REGISTRY.get(action_key)
    if spec is None or spec.message is None:
        return None
    if spec.message == RESULT_MESSAGE:
        return "result_early" if dossier.grade == Grade.EARLY else "result_ready"
    return spec.message


def is_allowed(action_key: str, status: int) -> bool:
    return status in ACTIONS[action_key].sources


def target_status(action_key: str, status: int) -> int:
    target = ACTIONS[action_key].target
    return status if target is None else target


def available_actions(status: int):
    """The actions the table allows from `status`, whoever asks (see `actions_for` for an officer)."""
    return [a for a in ACTIONS.values() if status in a.sources]


def places_of(officer, dossier=None) -> frozenset:
    """Where `officer` stands relative to `dossier`: a subset of PERFORMERS (never from view rights)."""
    places = set()
    department = officer.department
    if department.is_reception and _at_dossiers_point(officer, dossier):
        places.add(COUNTER)
    if dossier is not None and dossier.current_department_id is not None:
        if dossier.current_department_id == officer.department_id:
            places.add(HOLDER)
            if officer.user.has_perm(LEADER_PERMISSION):
                places.add(HOLDER_LEADER)
    return frozenset(places)


def _at_dossiers_point(officer, dossier) -> bool:
    point_id = getattr(dossier, "reception_point_id", None) if dossier is not None else None
    return point_id is None or point_id == officer.department_id


def is_counter_elsewhere(officer, rule_key: str, dossier) -> bool:
    """A counter action refused only because `officer` serves another reception point than the dossier's."""
    return (
        dossier is not None
        and COUNTER in RULES[rule_key].performers
        and officer.department.is_reception
        and not _at_dossiers_point(officer, dossier)
    )


def has_permission(officer, rule_key: str) -> bool:
    user = officer.user
    return user.is_active and user.has_perm(RULES[rule_key].permission)


def is_performer(officer, rule_key: str, dossier=None) -> bool:
    return bool(RULES[rule_key].performers & places_of(officer, dossier))


def may_perform(officer, rule_key: str, dossier=None) -> bool:
    """Permission and place, ignoring the status (the table's sources decide that separately)."""
    return officer is not None and has_permission(officer, rule_key) and is_performer(officer, rule_key, dossier)


def actions_for(officer, dossier):
    """The actions `officer` may actually perform on `dossier` now: what the admin and API offer."""
    if officer is None:
        return []
    return [a for a in available_actions(dossier.status) if may_perform(officer, a.key, dossier)]


def performers_text(rule_key: str) -> str:
    """Who may perform it, for the officer's message: "bộ phận một cửa hoặc phòng ban đang giữ hồ sơ"."""
    return f" {_('hoặc')} ".join(str(PERFORMERS[p]) for p in sorted(RULES[rule_key].performers))
