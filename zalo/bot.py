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
