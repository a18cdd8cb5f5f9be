"""The ``/_fake/…`` control API used by tests and developers (not part of Zalo; never subject to faults)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from . import ratings
from .faults import Faults
from .media import MediaMixin
from .phone import _html_response
from .protocol import (
    Request,
    Response,
    _flat_form,
    _json_response,
    _ms,
)

if TYPE_CHECKING:
    pass


class ControlMixin:
    """Control API of :class:`~fakezalo.state.FakeZalo`."""

    # -- control API -----------------------------------------------------------------------------

    def _control(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        try:
            if path == "/_fake" and req.method == "GET":
                return _html_response(self.render_page(req.query))
            if path == "/_fake/ui/send_text" and req.method == "POST":
                form = _flat_form(req.body)
                if form.get("text", "").strip() and form.get("user_id", "").strip():
                    self.send_text(form["user_id"].strip(), form["text"], form.get("oa_id") or None)
                return self._back(form)
            if path.startswith("/_fake/media/") and req.method == "GET":
                return self.serve_media(path)
            if path == "/_fake/ui/send_media" and req.method == "POST":
                return self._back(self._ui_send_media(req))
            if path in ("/_fake/ui/tap_button", "/_fake/ui/zns_rate") and req.method == "POST":
                form = _flat_form(req.body)
                ratings.handle_ui(self, path, form)
                return self._back(form)
            if path == "/_fake/zns_rate" and req.method == "POST":
                return _json_response(ratings.control_zns_rate(self, json.loads(req.body or b"{}")))
            if path == "/_fake/ui/follow" and req.method == "POST":
                form = _flat_form(req.body)
                if form.get("user_id", "").strip():
                    if form.get("action") == "unfollow":
                        self.unfollow(form["user_id"].strip(), form.get("oa_id") or None)
                    else:
                        self.follow(form["user_id"].strip(), form.get("oa_id") or None)
                return self._back(form)
            handler = _CONTROL_ROUTES.get((req.method, path))
            if handler is None:
                return _json_response({"error": "not found", "path": req.path}, 404)
            body = json.loads(req.body) if req.body.strip() else {}
            query = {k: v[-1] for k, v in req.query.items()}
            return _json_response(handler(self, body, query))
        except (ValueError, TypeError, KeyError) as exc:
            return _json_response({"error": str(exc)}, 400)

    @staticmethod
    def _back(form: dict[str, str]) -> Response:
        back = form.get("back", "/_fake/")
        if not back.startswith("/_fake/") or "//" in back or "\\" in back:
            back = "/_fake/"
        return Response(303, b"", "text/plain", [("Location", back)])

    def _c_apps_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {"apps": [oa.public() for oa in self.oas.values()]}

    def _c_apps_post(self, body: dict, query: dict) -> Any:
        refresh = self.register(
            body["app_id"],
            body["app_secret"],
            body["oa_id"],
            body["oa_secret_key"],
            body.get("refresh_token"),
            body.get("webhook_url"),
            body.get("name", ""),
        )
        return {"oa_id": str(body["oa_id"]), "refresh_token": refresh}

    def _c_tokens(self, body: dict, query: dict) -> Any:
        return self.issue_tokens(body.get("oa_id", ""))

    def _c_code(self, body: dict, query: dict) -> Any:
        return {"code": self.issue_code(body.get("oa_id", ""), body["code_challenge"])}

    def _c_expire(self, body: dict, query: dict) -> Any:
        self.expire_tokens(refresh=bool(body.get("refresh")))
        return {"ok": True}

    def _c_faults_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return asdict(self.faults)

    def _c_faults_post(self, body: dict, query: dict) -> Any:
        return self.set_faults(**body)

    def _c_faults_clear(self, body: dict, query: dict) -> Any:
        with self._lock:
            self.faults = Faults()
            self.release_answers()
            return asdict(self.faults)

    def _c_release(self, body: dict, query: dict) -> Any:
        self.release_answers()
        return {"released": True}

    def _c_options_get(self, body: dict, query: dict) -> Any:
        with self._lock:
            return asdict(self.options)

    def _c_options_post(self, body: dict, query: dict) -> Any:
        return self.set_options(**body)

    def _c_clock_get(self, body: dict, query: dict) -> Any:
        return {"now": _ms(self.now()), "offset": self._clock_offset}

    def _c_clock_post(self, body: dict, query: dict) -> Any:
        self.advance_clock(float(body.get("advance", 0)))
        return self._c_clock_get(body, query)

    def _c_follow(self, body: dict, query: dict) -> Any:
        return self.follow(str(body["user_id"]), body.get("oa_id"), body.get("name", ""))

    def _c_unfollow(self, body: dict, query: dict) -> Any:
        return self.unfollow(str(body["user_id"]), body.get("oa_id"))

    def _c_send_text(self, body: dict, query: dict) -> Any:
        return self.send_text(str(body["user_id"]), str(body["text"]), body.get("oa_id"), bool(body.get("sync")))

    def _c_interact(self, body: dict, query: dict) -> Any:
        # "user_ids": many at once (benchmarks seed 100,000 citizens in one call).
        for user_id in body.get("user_ids") or [body["user_id"]]:
            self.interact(str(user_id), body.get("oa_id"), float(body.get("seconds_ago", 0)))
        return {"ok": True}

    def _c_users(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {
                "users": [
                    {
                        "oa_id": c.oa_id,
                        "user_id": c.user_id,
                        "name": c.name,
                        "follower": c.follower,
                        "last_interaction": _ms(c.last_interaction) if c.last_interaction is not None else "",
                    }
                    for c in self.citizens.values()
                    if not query.get("oa_id") or c.oa_id == query["oa_id"]
                ]
            }

    def _c_templates(self, body: dict, query: dict) -> Any:
        with self._lock:
            for template_id, spec in body.items():
                self.templates[str(template_id)] = dict(spec or {})
            return {"templates": self.templates}

    def _c_conversation(self, body: dict, query: dict) -> Any:
        oa = self._oa(query.get("oa_id"))
        return {"messages": self.conversation(oa.oa_id, str(query.get("user_id", "")))}

    def _c_messages(self, body: dict, query: dict) -> Any:
        names = ("recipient", "kind", "oa_id", "tracking_id", "key", "direction", "msg_id")
        found = self.find_messages(**{n: query.get(n) for n in names})
        return {"count": len(found), "messages": found}

    def _c_count(self, body: dict, query: dict) -> Any:
        key = query.get("key") or query.get("tracking_id") or ""
        return {"key": key, "count": self.count(key)}

    def _c_stats(self, body: dict, query: dict) -> Any:
        return self.stats()

    def _c_webhooks(self, body: dict, query: dict) -> Any:
        with self._lock:
            return {"webhooks": list(self.webhook_log)}

    def _c_reset(self, body: dict, query: dict) -> Any:
        self.reset(tokens=bool(body.get("tokens")))
        return {"ok": True}

    def _c_health(self, body: dict, query: dict) -> Any:
        return {"ok": True, "oas": len(self.oas)}


_CONTROL_ROUTES = {
    ("GET", "/_fake/health"): ControlMixin._c_health,
    ("GET", "/_fake/apps"): ControlMixin._c_apps_get,
    ("POST", "/_fake/apps"): ControlMixin._c_apps_post,
    ("POST", "/_fake/tokens"): ControlMixin._c_tokens,
    ("POST", "/_fake/oauth/code"): ControlMixin._c_code,
    ("POST", "/_fake/expire_tokens"): ControlMixin._c_expire,
    ("GET", "/_fake/faults"): ControlMixin._c_faults_get,
    ("POST", "/_fake/faults"): ControlMixin._c_faults_post,
    ("POST", "/_fake/faults/clear"): ControlMixin._c_faults_clear,
    ("POST", "/_fake/release"): ControlMixin._c_release,
    ("GET", "/_fake/options"): ControlMixin._c_options_get,
    ("POST", "/_fake/options"): ControlMixin._c_options_post,
    ("GET", "/_fake/clock"): ControlMixin._c_clock_get,
    ("POST", "/_fake/clock"): ControlMixin._c_clock_post,
    ("POST", "/_fake/follow"): ControlMixin._c_follow,
    ("POST", "/_fake/unfollow"): ControlMixin._c_unfollow,
    ("POST", "/_fake/send_text"): ControlMixin._c_send_text,
    ("POST", "/_fake/send_image"): MediaMixin._c_send_image,
    ("POST", "/_fake/send_file"): MediaMixin._c_send_file,
    ("POST", "/_fake/interact"): ControlMixin._c_interact,
    ("GET", "/_fake/users"): ControlMixin._c_users,
    ("POST", "/_fake/templates"): ControlMixin._c_templates,
    ("GET", "/_fake/messages"): ControlMixin._c_messages,
    ("GET", "/_fake/conversation"): ControlMixin._c_conversation,
    ("GET", "/_fake/count"): ControlMixin._c_count,
    ("GET", "/_fake/stats"): ControlMixin._c_stats,
    ("GET", "/_fake/webhooks"): ControlMixin._c_webhooks,
    ("POST", "/_fake/reset"): ControlMixin._c_reset,
}
