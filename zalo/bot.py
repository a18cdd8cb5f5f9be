"""The OA chat bot: a citizen writes a dossier code and a verifier, the bot answers with the status.

Anything else goes to the officers' question inbox. A wrong verifier and an unknown code get the
same answer, and attempts are throttled per Zalo user and per code, as on the lookup page.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dossiers import lookup
from dossiers.models import Dossier
from dossiers.printing import lookup_url

CODE_RE = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4,6}\b", re.IGNORECASE)
VERIFIER_RE = re.compile(r"\b(\d{4}|\d{9}|\d{12})\b")


@dataclass
class Reply:
    text: str
    dossier: Dossier | None = None
    is_question: bool = False
    ward: tuple[str, str] | None = None  # (code, name) to follow for warnings
    clear_wards: bool = False


SUBSCRIBE_RE = re.compile(r"^\s*(?:dk|đk|dang ky|đăng ký)\s+(.+)$", re.IGNORECASE)
UNSUBSCRIBE_RE = re.compile(r"^\s*(?:huy|hủy)\s*(?:dk|đk|dang ky|đăng ký)\s*$", re.IGNORECASE)


def _ward_command(text):
    from .wards import find_ward

    if UNSUBSCRIBE_RE.match(text or ""):
        return Reply(_("Đã hủy đăng ký nhận tin cảnh báo theo phường, xã."), clear_wards=True)
    match = SUBSCRIBE_RE.match(text or "")
    if not match:
        return None
    ward = find_ward(match.group(1))
    if ward is None:
        return Reply(_("Không tìm thấy phường, xã “%s” trong tỉnh. Ví dụ: DK Hải Châu") % match.group(1).strip())
    return Reply(_("Đã đăng ký nhận tin cảnh báo cho %s. Gửi “HUY DK” để hủy.") % ward[1], ward=ward)


def _status_text(status: dict, dossier: Dossier) -> str:
    lines = [
        _("Hồ sơ %(code)s: %(status)s.") % {"code": status["code"], "status": status["status"]["label"]},
        status["status"]["explanation"],
    ]
    holder = status.get("holder") or {}
    if holder.get("department"):
        who = holder["department"] + (f" — {holder['officer']}" if holder.get("officer") else "")
        lines.append(_("Đang xử lý tại: %s.") % who)
    if status.get("missing_components"):
        lines.append(
            _("Cần bổ sung: %s.") % "; ".join(f"{m['name']} ({m['reason']})" for m in status["missing_components"])
        )
    if status.get("appointment_date"):
        lines.append(_("Ngày hẹn trả: %s.") % status["appointment_date"])
    lines.append(_("Từ nay ông/bà sẽ nhận tin về hồ sơ này qua Zalo. Xem chi tiết: %s") % lookup_url(dossier))
    return "\n".join(lines)


def answer(user_id: str, text: str) -> Reply:
    command = _ward_command(text)
    if command is not None:
        return command
    match = CODE_RE.search(text or "")
    if not match:
        return Reply(
            _(
                "Đã nhận câu hỏi của ông/bà; cán bộ sẽ trả lời trong giờ hành chính. Để tra cứu hồ sơ, gửi: "
                "<mã hồ sơ> <4 số cuối điện thoại>."
            ),
            is_question=True,
        )
    code = match.group(0).upper()
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    verifier = VERIFIER_RE.search(rest)
    if verifier is None:
        return Reply(
            _("Vui lòng gửi mã hồ sơ kèm 4 số cuối số điện thoại (hoặc số CCCD) của người nộp, ví dụ: %s 3456") % code
        )
    try:
        status = lookup.status_by_code(code, verifier.group(1), f"zalo:{user_id}")
    except lookup.Throttled as exc:
        return Reply(exc.message)
    if status is None:
        return Reply(str(lookup.NOT_FOUND_MESSAGE))
    dossier = Dossier.objects.select_related("procedure").get(code=status["code"])
    return Reply(_status_text(status, dossier), dossier=dossier)
