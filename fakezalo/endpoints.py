"""The Zalo API the fake serves: OAuth v4 (token, consent page), OA API, articles, conversation, ZNS."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from . import ratings
from .media import MediaMixin
from .phone import _html_response, _page
from .protocol import (
    BUSINESS_PATHS,
    DROP,
    HOLDABLE_PATHS,
    MAX_CONVERSATION_PAGE,
    P_ARTICLE_CREATE,
    P_ARTICLE_UPLOAD_IMAGE,
    P_ARTICLE_VERIFY,
    P_BROADCAST,
    P_CONVERSATION,
    P_CS,
    P_FOLLOWERS,
    P_PERMISSION,
    P_QUOTA,
    P_TEMPLATE,
    P_TEMPLATE_INFO,
    P_TOKEN,
    P_ZNS,
    P_ZNS_QUOTA,
    SRC_OA,
    SRC_USER,
    ZNS_PHONE,
    Request,
    Response,
    _Answer,
    _challenge,
    _flat_form,
    _json_body,
    _json_response,
    _ms,
    _new_id,
    _ok,
    _ok_list,
)
from .records import OA, _Article

if TYPE_CHECKING:
    pass


class EndpointsMixin:
    """Request handling of :class:`~fakezalo.state.FakeZalo` (one method per Zalo endpoint)."""

    # -- HTTP entry point ------------------------------------------------------------------------

    def handle(self, req: Request) -> Response | object:
        if req.path == "/_fake" or req.path.startswith("/_fake/"):
            return self._control(req)
        if req.path == P_PERMISSION:
            return self._permission(req)
        route = self._routes.get((req.method, req.path))
        if route is None:
            return _json_response({"error": -404, "message": f"Không có API {req.method} {req.path}"}, 404)
        with self._lock:
            self.request_counts[req.path] += 1
            decision = self._take_faults(req.path)
        if decision == "drop_before":
            return DROP
        if decision == "http":
            status = self.faults.http_error_status
            return _json_response({"error": -500, "message": "Lỗi máy chủ (giả lập)"}, status)
        if decision == "rate":
            return _json_response({"error": -32, "message": "Vượt quá giới hạn số lần gọi API (giả lập)"})
        if isinstance(decision, tuple):  # ("slow", seconds, drop_after)
            if self._stop.wait(decision[1]):
                return DROP
            decision = decision[2]
        try:
            response = route(self, req)
        except _Answer as answer:
            response = _json_response({"error": answer.code, "message": answer.message})
        if decision == "drop_after":
            return DROP
        if req.path in HOLDABLE_PATHS and self._hold_answer(req.path, response):
            return DROP
        return response

    # -- auth ------------------------------------------------------------------------------------

    def _auth(self, req: Request) -> OA:
        business = req.path in BUSINESS_PATHS
        token = req.headers.get("access_token")
        with self._lock:
            record = self._access.get(token) if token else None
            now = self.now()
            if record is None or (record.dies_at is not None and now >= record.dies_at):
                raise _Answer(-124 if business else -216, "Access token không hợp lệ")
            if now >= record.expires_at:
                raise _Answer(-124 if business else -220, "Access token đã hết hạn")
            oa = self.oas[record.oa_id]
            proof = req.headers.get("appsecret_proof")
            if proof is not None or self.options.require_appsecret_proof:
                expected = hmac.new(self.apps[oa.app_id].encode(), token.encode(), hashlib.sha256).hexdigest()
                if not proof or not hmac.compare_digest(expected, proof.strip().lower()):
                    raise _Answer(-201, "appsecret_proof không hợp lệ")
            limit = self.options.rate_limit_per_minute
            if limit > 0:
                minute = int(now // 60)
                window, used = self._rate_window.get(oa.app_id, (minute, 0))
                used = used + 1 if window == minute else 1
                self._rate_window[oa.app_id] = (minute, used)
                if used > limit:
                    self.fault_counts["rate_limit_per_minute"] += 1
                    raise _Answer(-32, "Ứng dụng đã vượt quá giới hạn số lần gọi API mỗi phút")
            return oa

    # -- Zalo endpoints --------------------------------------------------------------------------

    def _oauth_error(self, code: int, name: str, description: str) -> Response:
        return _json_response({"error": code, "error_name": name, "error_description": description})

    def _token(self, req: Request) -> Response:
        form = _flat_form(req.body)
        app_id = form.get("app_id", "")
        with self._lock:
            secret = self.apps.get(app_id)
            if secret is None:
                return self._oauth_error(-14002, "Invalid app_id", "app_id không tồn tại")
            if not hmac.compare_digest(secret.encode(), (req.headers.get("secret_key") or "").encode()):
                return self._oauth_error(-14001, "Invalid secret_key", "secret_key không đúng")
            now = self.now()
            grant = form.get("grant_type")
            if grant == "refresh_token":
                given = form.get("refresh_token", "")
                record = self._refresh.get(given)
                if record is None or record.app_id != app_id or record.used or now >= record.expires_at:
                    if record is not None and record.used and self.options.reused_refresh_answer == "empty":
                        return Response(200, b"")
                    return self._oauth_error(-14014, "Invalid refresh token", "Refresh token không hợp lệ")
                record.used = True
                old = self._access.get(record.access_token) if record.access_token else None
                if old is not None:
                    dies = now + max(0.0, self.options.old_token_grace)
                    old.dies_at = dies if old.dies_at is None else min(old.dies_at, dies)
                return _json_response(self._issue_pair(app_id, record.oa_id))
            if grant == "authorization_code":
                code = self._codes.get(form.get("code", ""))
                verifier = form.get("code_verifier", "")
                if code is None or code.used or code.app_id != app_id or now >= code.expires_at:
                    return self._oauth_error(-14019, "Invalid code", "Authorization code không hợp lệ")
                if not verifier or not hmac.compare_digest(_challenge(verifier), code.challenge):
                    return self._oauth_error(-14019, "Invalid code_verifier", "code_verifier không khớp")
                code.used = True
                pair = self._issue_pair(app_id, code.oa_id)
                return _json_response(pair)
            return self._oauth_error(-14001, "Invalid grant_type", "grant_type không hợp lệ")

    def _cs(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        user_id, text = recipient.get("user_id"), message.get("text")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu recipient.user_id")
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise _Answer(-201, "Tham số không hợp lệ: message.text rỗng hoặc dài quá 2000 ký tự")
        buttons, button_error = ratings.cs_buttons(message)
        if button_error:
            raise _Answer(-201, button_error)
        user_id = str(user_id)
        with self._lock:
            self._recipient_fault(user_id)
            citizen = self.citizens.get((oa.oa_id, user_id))
            now = self.now()
            if citizen is None or citizen.last_interaction is None:
                raise _Answer(-230, "Người dùng chưa tương tác với OA")
            if now - citizen.last_interaction > self.options.cs_window:
                raise _Answer(-230, "Người dùng không tương tác với OA trong thời gian cho phép")
            if self.options.cs_reply_quota > 0:
                if citizen.reply_remaining <= 0:
                    raise _Answer(-218, "Đã hết hạn mức tin tư vấn cho người dùng này")
                citizen.reply_remaining -= 1
            msg_id = _new_id()
            key = f"cs|{user_id}|{text}"
            self.key_counts[key] += 1
            self._record(
                {
                    "kind": "cs",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": user_id,
                    "text": text,
                    "msg_id": msg_id,
                    "key": key,
                    **({"buttons": buttons} if buttons else {}),
                }
            )
            self._schedule_receipts(oa, user_id, msg_id, None)
            quota: dict[str, str] = {"quota_type": "reply", "owner_type": "OA", "owner_id": oa.oa_id}
            if self.options.cs_reply_quota > 0:
                quota.update(remain=str(citizen.reply_remaining), total=str(self.options.cs_reply_quota))
            return _ok({"message_id": msg_id, "user_id": user_id, "quota": quota})

    def _validate_template(self, template_id: Any, template_data: Any) -> str:
        if not isinstance(template_id, str | int) or not str(template_id):
            raise _Answer(-109, "template_id không hợp lệ")
        template_id = str(template_id)
        if not isinstance(template_data, dict):
            raise _Answer(-112, "template_data không hợp lệ: phải là một object")
        if self.templates:
            spec = self.templates.get(template_id)
            if spec is None:
                raise _Answer(-109, f"Template {template_id} chưa được duyệt")
            missing = [p for p in spec.get("params", []) if p not in template_data]
            if missing:
                raise _Answer(-111, "template_data thiếu tham số: " + ", ".join(missing))
            # Like Zalo: each approved parameter has its maximum length ({"max_length": {name: n}}).
            for name, limit in (spec.get("max_length") or {}).items():
                value = template_data.get(name)
                if value is not None and len(str(value)) > int(limit):
                    raise _Answer(-112, f"template_data không hợp lệ: {name} dài quá {limit} ký tự")
        return template_id

    def _template(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        user_id = body.get("user_id")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu user_id")
        user_id = str(user_id)
        template_data = body.get("template_data")
        with self._lock:
            template_id = self._validate_template(body.get("template_id"), template_data)
            if self._night():
                raise _Answer(-234, "Không được gửi tin trong khung giờ 22:00–06:00")
            if self.faults.quota_exhausted:
                raise _Answer(-211, "OA đã hết hạn mức gửi tin")
            citizen = self.citizens.get((oa.oa_id, user_id))
            if citizen is None or not citizen.follower:
                raise _Answer(-213, "Người dùng chưa quan tâm OA")
            self._recipient_fault(user_id)
            msg_id = _new_id()
            data_json = json.dumps(template_data, ensure_ascii=False, sort_keys=True)
            key = f"template|{user_id}|{template_id}|{data_json}"
            self.key_counts[key] += 1
            now = self.now()
            self._record(
                {
                    "kind": "template",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": user_id,
                    "template_id": template_id,
                    "template_data": template_data,
                    "text": self._render(template_id, template_data),
                    "msg_id": msg_id,
                    "key": key,
                }
            )
            self._schedule_receipts(oa, user_id, msg_id, None)
            return _ok({"message_id": msg_id, "user_id": user_id, "sent_time": _ms(now)})

    def _zns(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        phone = body.get("phone")
        if not isinstance(phone, str) or not ZNS_PHONE.fullmatch(phone) or not phone.isascii():
            raise _Answer(-108, "Số điện thoại không hợp lệ (định dạng 84xxxxxxxxx)")
        tracking_id = body.get("tracking_id")
        if tracking_id is not None and (not isinstance(tracking_id, str) or len(tracking_id) > 48):
            raise _Answer(-201, "tracking_id không hợp lệ (tối đa 48 ký tự)")
        mode = body.get("mode")
        if mode not in (None, "development"):
            raise _Answer(-201, "mode không hợp lệ")
        template_data = body.get("template_data")
        with self._lock:
            template_id = self._validate_template(body.get("template_id"), template_data)
            if self._night():
                raise _Answer(-133, "Không được gửi ZNS trong khung giờ 22:00–06:00")
            day = self._vn_now().date().isoformat()
            used = self._zns_used.get((oa.oa_id, day), 0)
            daily = self.options.zns_daily_quota
            if self.faults.quota_exhausted or used >= daily:
                raise _Answer(-144, "OA đã vượt hạn mức gửi ZNS trong ngày")
            self._recipient_fault(phone)
            used += 1
            self._zns_used[(oa.oa_id, day)] = used
            msg_id = _new_id()
            now = self.now()
            key = tracking_id if tracking_id else f"zns|{phone}|{msg_id}"
            self.key_counts[key] += 1
            self._record(
                {
                    "kind": "zns",
                    "direction": "out",
                    "oa_id": oa.oa_id,
                    "recipient": phone,
                    "template_id": template_id,
                    "template_data": template_data,
                    "text": self._render(template_id, template_data),
                    "tracking_id": tracking_id,
                    "development": mode == "development",
                    "msg_id": msg_id,
                    "key": key,
                }
            )
            self._schedule_receipts(oa, phone, msg_id, tracking_id)
            return _ok(
                {
                    "msg_id": msg_id,
                    "sent_time": _ms(now),
                    "quota": {"dailyQuota": str(daily), "remainingQuota": str(max(0, daily - used))},
                }
            )

    def _zns_quota(self, req: Request) -> Response:
        oa = self._auth(req)
        with self._lock:
            used = self._zns_used.get((oa.oa_id, self._vn_now().date().isoformat()), 0)
            daily = self.options.zns_daily_quota
            remaining = 0 if self.faults.quota_exhausted else max(0, daily - used)
            return _ok({"dailyQuota": str(daily), "remainingQuota": str(remaining)})

    def _template_info(self, req: Request) -> Response:
        """``GET /template/info/v2?template_id=`` → the approved template and its ``listParams``."""
        self._auth(req)
        template_id = (req.query.get("template_id") or [""])[-1]
        with self._lock:
            spec = self.templates.get(template_id)
            if not template_id or spec is None:
                raise _Answer(-109, f"Template {template_id} không tồn tại")
            limits = spec.get("max_length") or {}
            params = [
                {
                    "name": name,
                    "require": True,
                    "type": "STRING",
                    "maxLength": int(limits.get(name, 400)),
                    "minLength": 0,
                    "acceptNull": False,
                }
                for name in spec.get("params", [])
            ]
            info = {"templateId": template_id, "templateName": template_id, "status": "ENABLE", "listParams": params}
            return _ok(info)

    def _quota(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        user_id = body.get("user_id")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise _Answer(-201, "Tham số không hợp lệ: thiếu user_id")
        with self._lock:
            citizen = self.citizens.get((oa.oa_id, str(user_id)))
            last = citizen.last_interaction if citizen else None
            now = self.now()
            in_window = last is not None and now - last <= self.options.cs_window
            data: dict[str, Any] = {
                "user_id": str(user_id),
                "is_follower": bool(citizen and citizen.follower),
                "last_interaction": _ms(last) if last is not None else "",
                "cs_expired_time": _ms(last + self.options.cs_window) if last is not None else "",
                "can_send_cs": in_window,
                "quota_type": "reply",
            }
            if self.options.cs_reply_quota > 0:
                remain = citizen.reply_remaining if (citizen and in_window) else 0
                data.update(remain=str(remain), total=str(self.options.cs_reply_quota))
            return _ok(data)

    def _followers(self, req: Request) -> Response:
        oa = self._auth(req)
        raw = (req.query.get("data") or [""])[-1]
        try:
            params = json.loads(raw) if raw else {}
            offset = int(params.get("offset", 0))
            count = int(params.get("count", 0))
        except (ValueError, TypeError, AttributeError):
            raise _Answer(-201, "Tham số không hợp lệ: data phải là JSON") from None
        if offset < 0 or offset > 10000 or not 1 <= count <= 50:
            raise _Answer(-201, "Tham số không hợp lệ: 0 ≤ offset ≤ 10000, 1 ≤ count ≤ 50")
        only_followers = params.get("is_follower", True) not in (False, "false", 0)
        with self._lock:
            users = [c for c in self.citizens.values() if c.oa_id == oa.oa_id and (c.follower or not only_followers)]
            users.sort(key=lambda c: (c.followed_at or 0.0, c.user_id))
            page = users[offset : offset + count]
            return _ok(
                {
                    "total": len(users),
                    "count": len(page),
                    "offset": offset,
                    "users": [{"user_id": c.user_id} for c in page],
                }
            )

    def _conversation(self, req: Request) -> Response:
        """The latest messages between the OA and one user, newest first (count ≤ 10)."""
        oa = self._auth(req)
        raw = (req.query.get("data") or [""])[-1]
        try:
            params = json.loads(raw) if raw else {}
            user_id = str(params.get("user_id", ""))
            offset = int(params.get("offset", 0))
            count = int(params.get("count", MAX_CONVERSATION_PAGE))
        except (ValueError, TypeError, AttributeError):
            raise _Answer(-201, "Tham số không hợp lệ: data phải là JSON") from None
        if not user_id or offset < 0 or not 1 <= count <= MAX_CONVERSATION_PAGE:
            raise _Answer(-201, f"Tham số không hợp lệ: cần user_id, 0 ≤ offset, 1 ≤ count ≤ {MAX_CONVERSATION_PAGE}")
        with self._lock:
            return _ok_list(self.conversation(oa.oa_id, user_id)[offset : offset + count])

    def conversation(self, oa_id: str, user_id: str) -> list[dict[str, Any]]:
        """What ``/v2.0/oa/conversation`` lists for one user, newest first (``message`` is the text)."""
        with self._lock:
            found = [
                m
                for m in self.messages
                if m.get("oa_id") == oa_id
                and m.get("recipient") == user_id
                and m.get("kind") in ("in", "cs", "template")
            ]
            return [
                {
                    "src": SRC_USER if m["direction"] == "in" else SRC_OA,
                    "time": m["time"],
                    "type": "template" if m["kind"] == "template" else (m.get("attachment") or {}).get("type", "text"),
                    "message": m.get("text", ""),
                    "message_id": m["msg_id"],
                    "from_id": user_id if m["direction"] == "in" else oa_id,
                    "to_id": oa_id if m["direction"] == "in" else user_id,
                }
                for m in reversed(found)
            ]

    def _article_create(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        title = body.get("title")
        blocks = body.get("body")
        if body.get("type", "normal") != "normal":
            raise _Answer(-201, "Tham số không hợp lệ: chỉ hỗ trợ bài viết type=normal")
        if not isinstance(title, str) or not title.strip() or len(title) > 150:
            raise _Answer(-201, "Tham số không hợp lệ: title rỗng hoặc dài quá 150 ký tự")
        if not isinstance(blocks, list) or not blocks:
            raise _Answer(-201, "Tham số không hợp lệ: body phải là danh sách khối nội dung")
        author, description, cover = body.get("author"), body.get("description"), body.get("cover")
        if not isinstance(author, str) or not author.strip() or len(author) > 50:
            raise _Answer(-201, "Tham số không hợp lệ: author bắt buộc, tối đa 50 ký tự")
        if not isinstance(description, str) or not description.strip() or len(description) > 300:
            raise _Answer(-201, "Tham số không hợp lệ: description bắt buộc, tối đa 300 ký tự")
        if not isinstance(cover, dict) or cover.get("cover_type") != "photo":
            raise _Answer(-201, "Tham số không hợp lệ: cover.cover_type phải là photo")
        cover_url = cover.get("photo_url")
        if not isinstance(cover_url, str) or not cover_url.startswith(("https://", "http://")):
            raise _Answer(-201, "Tham số không hợp lệ: cover.photo_url phải là địa chỉ ảnh")
        text = "\n".join(str(b.get("content", "")) for b in blocks if isinstance(b, dict))
        with self._lock:
            token = secrets.token_urlsafe(24)
            article = _Article(
                oa.oa_id,
                token,
                _new_id(),
                title,
                str(body.get("description") or ""),
                text,
                self.now() + self.options.article_processing,
                author,
                cover_url,
            )
            self._articles[token] = article
            self._article_ids[article.id] = article
            return _ok({"token": token})

    def _article_verify(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        with self._lock:
            article = self._articles.get(str(body.get("token", "")))
            if article is None or article.oa_id != oa.oa_id:
                raise _Answer(-201, "token bài viết không hợp lệ")
            if self.now() < article.ready_at:
                raise _Answer(-214, "Bài viết đang được xử lý")
            return _ok({"id": article.id})

    def _broadcast(self, req: Request) -> Response:
        oa = self._auth(req)
        body = _json_body(req)
        recipient = body.get("recipient")
        target = recipient.get("target", {}) if isinstance(recipient, dict) else None
        if not isinstance(target, dict):
            raise _Answer(-201, "Tham số không hợp lệ: recipient.target")
        try:
            attachment = body["message"]["attachment"]
            payload = attachment["payload"]
            elements = payload["elements"]
            ok = attachment["type"] == "template" and payload["template_type"] == "media"
            ok = ok and isinstance(elements, list) and 1 <= len(elements) <= 5
            ok = ok and all(e.get("media_type") == "article" for e in elements)
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise _Answer(-201, "Chỉ có thể broadcast bài viết (template media/article)")
        with self._lock:
            articles = [self._article_ids.get(str(e.get("attachment_id"))) for e in elements]
            if any(a is None or a.oa_id != oa.oa_id or self.now() < a.ready_at for a in articles):
                raise _Answer(-201, "attachment_id không phải bài viết đã xuất bản của OA")
            if self._night():
                raise _Answer(-234, "Không được broadcast trong khung giờ 22:00–06:00")
            if self.faults.quota_exhausted:
                raise _Answer(-211, "OA đã hết hạn mức broadcast")
            msg_id = _new_id()
            followers = [c for c in self.citizens.values() if c.oa_id == oa.oa_id and c.follower]
            for article in articles:
                assert article is not None
                key = f"broadcast|{oa.oa_id}|{article.id}"
                self.key_counts[key] += 1
                text = article.title + ("\n" + article.description if article.description else "")
                for citizen in followers:
                    self._record(
                        {
                            "kind": "broadcast",
                            "direction": "out",
                            "oa_id": oa.oa_id,
                            "recipient": citizen.user_id,
                            "attachment_id": article.id,
                            "target": target,
                            "text": text,
                            "msg_id": msg_id,
                            "key": key,
                        }
                    )
            return _ok({"message_id": msg_id})

    _routes = {
        ("POST", P_TOKEN): _token,
        ("POST", P_CS): _cs,
        ("POST", P_TEMPLATE): _template,
        ("POST", P_QUOTA): _quota,
        ("GET", P_FOLLOWERS): _followers,
        ("POST", P_BROADCAST): _broadcast,
        ("POST", P_ARTICLE_CREATE): _article_create,
        ("POST", P_ARTICLE_VERIFY): _article_verify,
        ("POST", P_ZNS): _zns,
        ("GET", P_ZNS_QUOTA): _zns_quota,
        ("GET", P_TEMPLATE_INFO): _template_info,
        ("GET", P_CONVERSATION): _conversation,
        ("POST", P_ARTICLE_UPLOAD_IMAGE): MediaMixin._article_upload_image,
    }

    def _render(self, template_id: str, data: Any) -> str:
        spec = self.templates.get(template_id) or {}
        text = spec.get("text")
        if isinstance(text, str) and isinstance(data, dict):
            return re.sub(r"<(\w+)>|\{(\w+)\}", lambda m: str(data.get(m.group(1) or m.group(2), m.group(0))), text)
        if isinstance(data, dict):
            lines = [f"{k}: {v}" for k, v in data.items()]
            return f"[Mẫu {template_id}]\n" + "\n".join(lines)
        return f"[Mẫu {template_id}]"

    # -- OAuth consent page (human) --------------------------------------------------------------

    def _permission(self, req: Request) -> Response:
        if req.method == "POST":
            form = _flat_form(req.body)
        else:
            form = {k: v[-1] for k, v in req.query.items()}
        app_id = form.get("app_id", "")
        redirect_uri = form.get("redirect_uri", "")
        challenge = form.get("code_challenge", "")
        state = form.get("state", "")
        with self._lock:
            oas = [oa for oa in self.oas.values() if oa.app_id == app_id]
        if not oas or not redirect_uri.startswith(("http://", "https://")) or not challenge:
            return _html_response(
                _page("Lỗi cấp quyền", "<p>Thiếu hoặc sai app_id, redirect_uri hoặc code_challenge.</p>"), 400
            )
        if req.method == "POST" and form.get("decision") == "deny":
            query = urlencode(
                {"error": "access_denied", "error_description": "Người dùng từ chối cấp quyền", "state": state}
            )
            location = redirect_uri + ("&" if "?" in redirect_uri else "?") + query
            return Response(302, b"", "text/plain", [("Location", location)])
        if req.method == "POST":
            oa_id = form.get("oa_id", "")
            if oa_id not in {oa.oa_id for oa in oas}:
                return _html_response(_page("Lỗi cấp quyền", "<p>OA không thuộc ứng dụng này.</p>"), 400)
            code = self.issue_code(oa_id, challenge)
            query = urlencode({"code": code, "oa_id": oa_id, "state": state, "code_challenge": challenge})
            location = redirect_uri + ("&" if "?" in redirect_uri else "?") + query
            return Response(302, b"", "text/plain", [("Location", location)])
        e = html.escape
        hidden = (
            "".join(
                f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
                for k, v in (("app_id", app_id), ("redirect_uri", redirect_uri), ("code_challenge", challenge))
            )
            + f'<input type="hidden" name="state" value="{e(state)}">'
        )
        choices = "".join(
            f'<label><input type="radio" name="oa_id" value="{e(oa.oa_id)}"{" checked" if i == 0 else ""}> '
            f"{e(oa.name)} ({e(oa.oa_id)})</label><br>"
            for i, oa in enumerate(oas)
        )
        content = (
            f"<p>Ứng dụng <b>{e(app_id)}</b> xin quyền quản lý Official Account của bạn.</p>"
            f'<form method="post" action="{P_PERMISSION}">{hidden}{choices}'
            "<p>Cho phép ứng dụng quản lý OA đã chọn?</p>"
            f'<button type="submit" name="decision" value="allow">Đồng ý (Allow)</button> '
            f'<button type="submit" name="decision" value="deny">Từ chối</button></form>'
            f"<p class=muted>Sau khi cho phép, trình duyệt quay về {e(redirect_uri)}</p>"
        )
        return _html_response(_page("Cấp quyền cho ứng dụng", content))
