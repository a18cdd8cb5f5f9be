"""The transition table over the national statuses, as data.

Each action names the statuses it may start from, the status it leads to (None: unchanged), the
permission an officer needs and WHO may perform it, relative to the dossier:

- ``holder``: an officer of the department currently holding the dossier;
- ``holder_leader``: a leader (an officer who may sign results) of the holding department;
- ``counter``: an officer of a one-stop-shop (reception) department — intake, online registrations,
  supplements and fees brought to the counter, returning results, withdrawal at the counter.

An officer may perform an action only with its permission AND one of its performers' places: seeing
a dossier (``view_all_dossiers``) never grants an action. `dossiers/services.py` is the only caller
that applies the table; the admin and the API offer exactly the actions `actions_for` returns.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Status

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


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    sources: frozenset
    target: int | None  # None keeps the current status
    permission: str
    performers: frozenset


def action(key, label, sources, target, permission, performers):
    if not performers or not set(performers) <= set(PERFORMERS):
        raise ValueError(f"action {key}: performers must be a non-empty subset of {sorted(PERFORMERS)}")
    return Action(key, label, frozenset(sources), target, f"dossiers.{permission}", frozenset(performers))


WORKING = {S.ACCEPTED, S.IN_PROGRESS}
OPEN_STATUSES = frozenset({S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES, S.RESULT_READY})
PAUSED_STATUSES = frozenset({S.SUPPLEMENT})
FINAL_STATUSES = frozenset({S.REFUSED, S.WITHDRAWN, S.STOPPED, S.RETURNED})

ACTIONS = {
    a.key: a
    for a in (
        # Counter intake creates the dossier directly as accepted; online/postal ones start as registered
        # and are accepted or refused at the counter.
        action("accept", _("Tiếp nhận"), {S.REGISTERED}, S.ACCEPTED, "receive_dossier", {COUNTER}),
        action("refuse", _("Từ chối tiếp nhận"), {S.REGISTERED}, S.REFUSED, "receive_dossier", {COUNTER}),
        action("hand_over", _("Chuyển xử lý"), WORKING, S.IN_PROGRESS, "hand_over_dossier", {HOLDER}),
        # While the dossier is still at the counter, the counter is its holder.
        action("request_supplement", _("Yêu cầu bổ sung"), WORKING, S.SUPPLEMENT, "request_supplement", {HOLDER}),
        # The citizen brings the missing papers to the counter (or to the holder).
        action(
            "receive_supplement",
            _("Nhận hồ sơ bổ sung"),
            {S.SUPPLEMENT},
            S.IN_PROGRESS,
            "request_supplement",
            {HOLDER, COUNTER},
        ),
        action("request_fees", _("Yêu cầu nộp phí, thuế"), WORKING, S.FEES, "request_fees", {HOLDER, COUNTER}),
        action(
            "record_fees_paid",
            _("Xác nhận đã nộp phí, thuế"),
            {S.FEES},
            S.IN_PROGRESS,
            "request_fees",
            {HOLDER, COUNTER},
        ),
        action(
            "postpone",
            _("Xin lỗi, hẹn lại ngày trả"),
            WORKING | {S.FEES},
            None,
            "postpone_dossier",
            {HOLDER, HOLDER_LEADER},
        ),
        action("stop", _("Dừng xử lý"), WORKING | {S.SUPPLEMENT, S.FEES}, S.STOPPED, "stop_dossier", {HOLDER_LEADER}),
        action("mark_result_ready", _("Duyệt kết quả"), WORKING, S.RESULT_READY, "sign_result", {HOLDER_LEADER}),
        action("return_result", _("Trả kết quả"), {S.RESULT_READY}, S.RETURNED, "return_result", {COUNTER}),
        action(
            "withdraw",
            _("Rút hồ sơ theo yêu cầu công dân"),
            {S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES},
            S.WITHDRAWN,
            "receive_dossier",
            {COUNTER},
        ),
    )
}

# Actions that do not change the status: counter intake (creates the dossier) and a new QR receipt.
RECEIVE = Action(
    "receive", _("Tiếp nhận tại quầy"), frozenset(), None, "dossiers.receive_dossier", frozenset({COUNTER})
)
REISSUE_TOKEN = Action(
    "reissue_token",
    _("Cấp lại giấy tiếp nhận (mã QR mới)"),
    frozenset(),
    None,
    "dossiers.receive_dossier",
    frozenset({COUNTER}),
)
RECEIVE_PERMISSION = RECEIVE.permission
RULES = {**ACTIONS, RECEIVE.key: RECEIVE, REISSUE_TOKEN.key: REISSUE_TOKEN}

EVENT_LABELS = {
    "receive": RECEIVE.label,
    "register": _("Đăng ký trực tuyến"),
    "reissue_token": REISSUE_TOKEN.label,
} | {key: a.label for key, a in ACTIONS.items()}


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
    if department.is_reception:
        places.add(COUNTER)
    if dossier is not None and dossier.current_department_id is not None:
        if dossier.current_department_id == officer.department_id:
            places.add(HOLDER)
            if officer.user.has_perm(LEADER_PERMISSION):
                places.add(HOLDER_LEADER)
    return frozenset(places)


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
