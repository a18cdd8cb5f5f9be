"""The phone page ``/_fake/``: what each citizen would see, and forms to write to the OA as a citizen."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import ratings
from .protocol import (
    VN_TZ,
    ZNS_PHONE,
    Response,
)

if TYPE_CHECKING:
    pass


def attachment_html(attachment: dict[str, Any] | None) -> str:
    """An image the citizen sent, shown small; a file as a link with its size."""
    if not attachment or not attachment.get("url"):
        return ""
    url = html.escape(str(attachment["url"]))
    if attachment.get("type") == "image":
        return f'<a href="{url}"><img src="{url}" alt="ảnh" class="img"></a>'
    name = html.escape(str(attachment.get("name", "tệp")))
    return f'<div><a href="{url}">{name}</a> ({html.escape(str(attachment.get("size", "")))} byte)</div>'


class PhoneMixin:
    """The human page of :class:`~fakezalo.state.FakeZalo`."""

    # -- human page ------------------------------------------------------------------------------

    def render_page(self, query: dict[str, list[str]]) -> str:
        """Each citizen's phone: what they would have seen, newest last (Vietnamese, escaped)."""
        e = html.escape
        chosen = (query.get("r") or [""])[-1]
        with self._lock:
            threads: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for c in self.citizens.values():
                threads.setdefault((c.oa_id, c.user_id), [])
            for m in self.messages:
                threads.setdefault((m["oa_id"], m["recipient"]), []).append(m)
            names = {k: c.name for k, c in self.citizens.items()}
            followers = {k for k, c in self.citizens.items() if c.follower}
            oa_names = {oa.oa_id: oa.name for oa in self.oas.values()}
            faults = asdict(self.faults)

        def last_time(item: tuple[tuple[str, str], list[dict[str, Any]]]) -> int:
            return int(item[1][-1]["time"]) if item[1] else 0

        ordered = sorted(threads.items(), key=last_time, reverse=True)[:100]
        labels = {
            "cs": "Tin tư vấn",
            "template": "Tin mẫu",
            "zns": "ZNS",
            "broadcast": "Bài viết",
            "in": "Bạn",
        }
        links = " · ".join(
            f'<a href="/_fake/?{e(urlencode({"r": f"{oa}|{who}"}))}">{e(who)}</a>' for (oa, who), _ in ordered
        )
        cards = []
        for (oa_id, who), msgs in ordered:
            if chosen and chosen != f"{oa_id}|{who}":
                continue
            is_phone = bool(ZNS_PHONE.fullmatch(who))
            back = "/_fake/?" + urlencode({"r": chosen}) if chosen else "/_fake/"
            bubbles = []
            for m in msgs[-50:]:
                when = datetime.fromtimestamp(int(m["time"]) / 1000, UTC).astimezone(VN_TZ).strftime("%d/%m %H:%M")
                side = "in" if m.get("direction") == "in" else "out"
                extra = " · thử nghiệm" if m.get("development") else ""
                bubbles.append(
                    f'<div class="b {side}"><div class="k">{e(labels.get(m["kind"], m["kind"]))}{e(extra)}</div>'
                    f'<div class="t">{e(str(m.get("text", "")))}</div>{attachment_html(m.get("attachment"))}'
                    f"{ratings.rating_controls_html(self, m, back)}"
                    f'<div class="w">{e(when)}</div></div>'
                )
            if not bubbles:
                bubbles.append('<p class="muted">Chưa có tin nhắn.</p>')
            title = names.get((oa_id, who)) or ("Số điện thoại " + who if is_phone else "Người dùng " + who)
            badge = "Đang quan tâm OA" if (oa_id, who) in followers else ("ZNS" if is_phone else "Chưa quan tâm OA")
            form = ""
            if not is_phone:
                hidden = (
                    f'<input type="hidden" name="oa_id" value="{e(oa_id)}">'
                    f'<input type="hidden" name="user_id" value="{e(who)}">'
                    f'<input type="hidden" name="back" value="{e(back)}">'
                )
                action = "unfollow" if (oa_id, who) in followers else "follow"
                verb = "Bỏ quan tâm" if action == "unfollow" else "Quan tâm OA"
                form = (
                    f'<form method="post" action="/_fake/ui/send_text" class="send">{hidden}'
                    f'<input name="text" placeholder="Nhắn tin cho OA…" autocomplete="off">'
                    f'<button type="submit">Gửi</button></form>'
                    f'<form method="post" action="/_fake/ui/send_media" enctype="multipart/form-data" class="send">'
                    f'{hidden}<input type="file" name="file" title="Ảnh hoặc tệp (bỏ trống: ảnh mẫu)">'
                    f'<button type="submit">Gửi ảnh/tệp</button></form>'
                    f'<form method="post" action="/_fake/ui/follow" class="follow">{hidden}'
                    f'<input type="hidden" name="action" value="{action}"><button type="submit">{verb}</button></form>'
                )
            cards.append(
                f'<section class="phone"><header><b>{e(title)}</b><br><small>{e(oa_names.get(oa_id, oa_id))}'
                f" · {e(badge)}</small></header><div class=chat><div>{''.join(bubbles)}</div></div>{form}</section>"
            )
        oa_options = "".join(f'<option value="{e(k)}">{e(v)}</option>' for k, v in oa_names.items())
        new_citizen = (
            '<form method="post" action="/_fake/ui/send_text" class="new">'
            f'<select name="oa_id">{oa_options}</select>'
            '<input name="user_id" placeholder="Mã người dùng Zalo" autocomplete="off">'
            '<input name="text" placeholder="Nội dung tin nhắn" autocomplete="off">'
            '<button type="submit">Gửi như người dân mới</button></form>'
        )
        active = {k: v for k, v in faults.items() if v not in (0, 0.0, False, "off", {}, [], 503)}
        fault_line = (
            f'<p class="fault">Lỗi giả lập đang bật: {e(json.dumps(active, ensure_ascii=False))}</p>' if active else ""
        )
        content = (
            f"{fault_line}<nav>{links or 'Chưa có người dân nào.'}"
            f"{' · <a href=/_fake/>Tất cả</a>' if chosen else ''}</nav>{new_citizen}"
            f'<div class="grid">{"".join(cards)}</div>'
        )
        return _page("Zalo giả lập — điện thoại của người dân", content, refresh=True)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#eef1f5;color:#111}
h1{font-size:18px;margin:0;padding:12px 16px;background:#0068ff;color:#fff}
nav,.new,.fault,p{padding:0 16px}nav{margin:10px 0;line-height:1.8}a{color:#0068ff}
.grid{display:flex;flex-wrap:wrap;gap:16px;padding:16px}
.phone{width:340px;background:#fff;border-radius:24px;box-shadow:0 2px 8px #0002;display:flex;flex-direction:column;
max-height:640px;overflow:hidden;border:8px solid #222}
.phone header{padding:10px 14px;background:#f6f7f9;border-bottom:1px solid #ddd}
.chat{flex:1;overflow-y:auto;display:flex;flex-direction:column-reverse;background:#e2e9f1}
.chat>div{padding:10px;display:flex;flex-direction:column;gap:8px}
.b{max-width:80%;padding:8px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;font-size:14px}
.b.out{background:#fff;align-self:flex-start}.b.in{background:#d4e6ff;align-self:flex-end}
.k{font-size:11px;color:#0068ff;font-weight:600}.w{font-size:10px;color:#777;text-align:right}
.send,.follow{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd}.send input{flex:1}
.new{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}.muted{color:#777}.fault{color:#b00020;font-weight:600}
input,select,button{font-size:14px;padding:6px 8px;border-radius:8px;border:1px solid #bbb}
button{background:#0068ff;color:#fff;border:0}
.img{max-width:200px;max-height:160px;border-radius:8px;display:block;margin-top:4px}
"""


def _page(title: str, content: str, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="3">' if refresh else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{content}</body></html>"
    )


def _html_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode("utf-8"), "text/html; charset=utf-8")
