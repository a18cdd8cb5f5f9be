"""The transition table over the national statuses, as data.

Each action names the statuses it may start from, the status it leads to (None: unchanged) and the
permission an officer needs. `dossiers/services.py` is the only caller that applies them; a test
walks every (action, status) pair, allowed and forbidden.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import Status

S = Status


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    sources: frozenset
    target: int | None  # None keeps the current status
    permission: str


def action(key, label, sources, target, permission):
    return Action(key, label, frozenset(sources), target, f"dossiers.{permission}")


WORKING = {S.ACCEPTED, S.IN_PROGRESS}
OPEN_STATUSES = frozenset({S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES, S.RESULT_READY})
PAUSED_STATUSES = frozenset({S.SUPPLEMENT})
FINAL_STATUSES = frozenset({S.REFUSED, S.WITHDRAWN, S.STOPPED, S.RETURNED})

ACTIONS = {
    a.key: a
    for a in (
        # Counter intake creates the dossier directly as accepted; online/postal ones start as registered.
        action("accept", _("Tiếp nhận"), {S.REGISTERED}, S.ACCEPTED, "receive_dossier"),
        action("refuse", _("Từ chối tiếp nhận"), {S.REGISTERED}, S.REFUSED, "receive_dossier"),
        action("hand_over", _("Chuyển xử lý"), WORKING, S.IN_PROGRESS, "hand_over_dossier"),
        action("request_supplement", _("Yêu cầu bổ sung"), WORKING, S.SUPPLEMENT, "request_supplement"),
        action("receive_supplement", _("Nhận hồ sơ bổ sung"), {S.SUPPLEMENT}, S.IN_PROGRESS, "request_supplement"),
        action("request_fees", _("Yêu cầu nộp phí, thuế"), WORKING, S.FEES, "request_fees"),
        action("record_fees_paid", _("Xác nhận đã nộp phí, thuế"), {S.FEES}, S.IN_PROGRESS, "request_fees"),
        action("postpone", _("Xin lỗi, hẹn lại ngày trả"), WORKING | {S.FEES}, None, "postpone_dossier"),
        action("stop", _("Dừng xử lý"), WORKING | {S.SUPPLEMENT, S.FEES}, S.STOPPED, "stop_dossier"),
        action("mark_result_ready", _("Duyệt kết quả"), WORKING, S.RESULT_READY, "sign_result"),
        action("return_result", _("Trả kết quả"), {S.RESULT_READY}, S.RETURNED, "return_result"),
        action(
            "withdraw",
            _("Rút hồ sơ theo yêu cầu công dân"),
            {S.REGISTERED, S.ACCEPTED, S.IN_PROGRESS, S.SUPPLEMENT, S.FEES},
            S.WITHDRAWN,
            "receive_dossier",
        ),
    )
}

# "receive" is the counter intake that creates a dossier; it has no source status.
RECEIVE_PERMISSION = "dossiers.receive_dossier"
EVENT_LABELS = {
    "receive": _("Tiếp nhận tại quầy"),
    "register": _("Đăng ký trực tuyến"),
    "reissue_token": _("Cấp lại giấy tiếp nhận (mã QR mới)"),
} | {key: a.label for key, a in ACTIONS.items()}


def is_allowed(action_key: str, status: int) -> bool:
    return status in ACTIONS[action_key].sources


def target_status(action_key: str, status: int) -> int:
    target = ACTIONS[action_key].target
    return status if target is None else target


def available_actions(status: int):
    return [a for a in ACTIONS.values() if status in a.sources]
