"""The OA chat bot: a citizen writes a dossier code and the applicant's full phone or ID-paper number,
the bot answers with the status (and zalo.inbox links the dossier to that Zalo account).

Anything else goes to the officers' question inbox. A wrong verifier and an unknown code get the
same answer; attempts are throttled per Zalo user and count against the code's one allowance shared
with the lookup page and the API.
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dossiers import lookup
from dossiers.codes import CODE_IN_TEXT_RE
from dossiers.links import lookup_url
from dossiers.models import Dossier

# A phone ("0905 123 456", "+84 905.123.456") or an ID-paper number (CCCD 12 digits, CMND 9 digits).
VERIFIER_RE = re.compile(r"(?<![\w+])\+?\d[\d .\-]{6,18}\d(?!\w)")


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
    return "\n".join(lines)


def link_text(outcome: str, dossier: Dossier) -> str:
    """The last line of a status reply: what happened to the link between this Zalo account and the dossier."""
    if outcome == "full":
        return _(
            "Hồ sơ này đã có đủ %(n)s tài khoản Zalo nhận tin nên không thể thêm tài khoản này. Nếu ông/bà là "
            "người nộp, vui lòng liên hệ bộ phận một cửa để gỡ tài khoản không dùng nữa. Xem chi tiết: %(link)s"
        ) % {"n": MAX_LINKS_PER_DOSSIER, "link": lookup_url(dossier)}
    return _("Từ nay ông/bà sẽ nhận tin về hồ sơ này qua Zalo. Xem chi tiết: %s") % lookup_url(dossier)


MAX_LINKS_PER_DOSSIER = 3


def find_verifier(text: str) -> str | None:
    """The applicant's phone or ID-paper number in a chat message, normalised; None when there is none."""
    for match in VERIFIER_RE.finditer(text or ""):
        verifier = lookup.normalise_verifier(match.group(0))
        if len(verifier) >= lookup.MIN_VERIFIER_LENGTH:
            return verifier
    return None


def answer(user_id: str, text: str) -> Reply:
    command = _ward_command(text)
    if command is not None:
        return command
    match = CODE_IN_TEXT_RE.search(text or "")
    if not match:
        return Reply(
            _(
                "Đã nhận câu hỏi của ông/bà; cán bộ sẽ trả lời trong giờ hành chính. Để tra cứu hồ sơ, gửi: "
                "<mã hồ sơ> <số điện thoại hoặc số CCCD của người nộp>."
            ),
            is_question=True,
        )
    code = match.group(0).upper()
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    verifier = find_verifier(rest)
    if verifier is None:
        return Reply(
            _(
                "Vui lòng gửi mã hồ sơ kèm đầy đủ số điện thoại hoặc số giấy tờ tùy thân (CCCD, CMND) của người "
                "nộp, ví dụ: %s 0905123456"
            )
            % code
        )
    try:
        dossier = lookup.dossier_by_code(code, verifier, f"zalo:{user_id}")
    except lookup.Throttled as exc:
        return Reply(exc.message)
    if dossier is None:
        return Reply(str(lookup.NOT_FOUND_MESSAGE))
    status = lookup.status_by_token(dossier.lookup_token)
    return Reply(_status_text(status, dossier), dossier=dossier)
