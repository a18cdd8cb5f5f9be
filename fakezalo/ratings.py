"""Rating in the fake Zalo: reply buttons under a CS message, and the ZNS rating template.

- A CS message may carry ``message.attachment = {"type": "template", "payload": {"buttons": [...]}}``
  (at most 5 buttons of ``title``, ``type``, ``payload``); the phone page shows them, and tapping one
  of type ``oa.query.*`` sends its payload as the citizen's text (``user_send_text``), as Zalo does.
- A ZNS template registered with ``"rating": true`` shows five stars and a note on the phone; a tap
  sends ``user_feedback`` with ``message.{rate, note, feedback, msg_id, tracking_id, submit_time}``
  (once per message, like Zalo's rating template).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .protocol import _ms

if TYPE_CHECKING:
    from .state import FakeZalo

MAX_BUTTONS = 5
BTNS_STYLE = "display:flex;flex-wrap:wrap;gap:4px;margin-top:6px"
BUTTON_TYPES = ("oa.query.hide", "oa.query.show", "oa.open.url")


def cs_buttons(message: dict[str, Any]) -> tuple[list[dict[str, str]] | None, str]:
    """(buttons, error) of a CS message's attachment; (None, "") without one."""
    attachment = message.get("attachment")
    if attachment is None:
        return None, ""
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    buttons = payload.get("buttons") if isinstance(payload, dict) else None
    if attachment.get("type") != "template" or not isinstance(buttons, list) or not buttons:
        return None, "Tham số không hợp lệ: message.attachment phải là template có buttons"
    if len(buttons) > MAX_BUTTONS:
        return None, f"Tham số không hợp lệ: tối đa {MAX_BUTTONS} nút"
    clean = []
    for b in buttons:
        if not isinstance(b, dict) or b.get("type") not in BUTTON_TYPES:
            return None, "Tham số không hợp lệ: loại nút không được hỗ trợ"
        title, value = b.get("title"), b.get("payload")
        if not isinstance(title, str) or not title.strip() or len(title) > 100 or not isinstance(value, str):
            return None, "Tham số không hợp lệ: nút thiếu tiêu đề hoặc payload"
        clean.append({"title": title, "type": b["type"], "payload": value})
    return clean, ""


def rating_controls_html(fake: FakeZalo, m: dict[str, Any], back: str) -> str:
    """The buttons under a received message on the phone page (reply buttons, ZNS rating stars)."""
    e = html.escape
    hidden = (
        f'<input type="hidden" name="oa_id" value="{e(str(m.get("oa_id", "")))}">'
        f'<input type="hidden" name="back" value="{e(back)}">'
    )
    if m.get("kind") == "cs" and m.get("buttons"):
        forms = "".join(
            f'<form method="post" action="/_fake/ui/tap_button" class="btn">{hidden}'
            f'<input type="hidden" name="user_id" value="{e(str(m["recipient"]))}">'
            f'<input type="hidden" name="payload" value="{e(b["payload"])}">'
            f'<button type="submit">{e(b["title"])}</button></form>'
            for b in m["buttons"]
            if b["type"].startswith("oa.query.")
        )
        return f'<div class="btns" style="{BTNS_STYLE}">{forms}</div>'
    if m.get("kind") == "zns" and (fake.templates.get(str(m.get("template_id"))) or {}).get("rating"):
        if m.get("rated"):
            return f'<div class="k">Đã đánh giá {e(str(m["rated"]))}/5</div>'
        stars = "".join(f'<button type="submit" name="rate" value="{n}">{n}★</button>' for n in range(1, 6))
        return (
            f'<form method="post" action="/_fake/ui/zns_rate" class="btns" style="{BTNS_STYLE}">{hidden}'
            f'<input type="hidden" name="msg_id" value="{e(str(m["msg_id"]))}">'
            f'<input name="note" placeholder="Góp ý (không bắt buộc)" autocomplete="off">{stars}</form>'
        )
    return ""


def tap_button(fake: FakeZalo, form: dict[str, str]) -> dict[str, Any] | None:
    """The citizen taps a reply button: its payload goes to the OA as their text."""
    user_id, value = form.get("user_id", "").strip(), form.get("payload", "")
    if not user_id or not value:
        return None
    return fake.send_text(user_id, value, form.get("oa_id") or None)


def zns_rate(fake: FakeZalo, msg_id: str, rate: Any, note: str = "", sync: bool = False) -> dict[str, Any]:
    """The citizen rates a ZNS rating template: ``user_feedback`` to the OA's webhook (once per message)."""
    try:
        rate = int(rate)
    except (TypeError, ValueError):
        raise ValueError("rate must be 1..5") from None
    if not 1 <= rate <= 5:
        raise ValueError("rate must be 1..5")
    with fake._lock:
        m = next((m for m in fake.messages if m.get("msg_id") == msg_id and m.get("kind") == "zns"), None)
        if m is None:
            raise ValueError(f"no ZNS message {msg_id!r}")
        if not (fake.templates.get(str(m.get("template_id"))) or {}).get("rating"):
            raise ValueError("not a rating template")
        if m.get("rated"):
            raise ValueError("already rated")
        m["rated"] = rate
        oa = fake._oa(m["oa_id"])
        now = fake.now()
        event = {
            "app_id": oa.app_id,
            "oa_id": oa.oa_id,
            "event_name": "user_feedback",
            "sender": {"id": m["recipient"]},
            "recipient": {"id": oa.oa_id},
            "message": {
                "msg_id": msg_id,
                "tracking_id": m.get("tracking_id") or "",
                "rate": rate,
                "note": str(note or "")[:500],
                "feedback": [],
                "submit_time": _ms(now),
            },
            "timestamp": _ms(now),
        }
    return fake._emit(oa, event, sync=sync)


def handle_ui(fake: FakeZalo, path: str, form: dict[str, str]) -> bool:
    """The phone page's rating forms; False when `path` is not one of them."""
    if path == "/_fake/ui/tap_button":
        tap_button(fake, form)
        return True
    if path == "/_fake/ui/zns_rate":
        try:
            zns_rate(fake, form.get("msg_id", ""), form.get("rate"), form.get("note", ""))
        except ValueError:
            pass  # a second tap, or a stale page: nothing is sent
        return True
    return False


def control_zns_rate(fake: FakeZalo, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /_fake/zns_rate {"msg_id", "rate", "note", "sync"}`` (tests)."""
    return zns_rate(fake, str(body.get("msg_id", "")), body.get("rate"), body.get("note", ""), bool(body.get("sync")))
