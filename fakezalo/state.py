"""The in-memory platform: apps, OAs, citizens, tokens, codes, messages, templates, articles."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from .control import ControlMixin
from .endpoints import EndpointsMixin
from .faults import Faults, FaultsMixin
from .media import MediaMixin
from .phone import PhoneMixin
from .protocol import (
    VN_TZ,
    _coerce,
    _ms,
    _new_id,
    parse_app_spec,
)
from .records import OA, Citizen, FakeOptions, _AccessToken, _Article, _Code, _RefreshToken
from .webhooks import WebhooksMixin, _Dispatcher


class FakeZalo(EndpointsMixin, ControlMixin, PhoneMixin, MediaMixin, WebhooksMixin, FaultsMixin):
    """The in-memory state and the request logic; :class:`FakeZaloServer` only does HTTP."""

    def __init__(self, options: FakeOptions | None = None, faults: Faults | None = None) -> None:
        self.options = options or FakeOptions()
        self.faults = faults or Faults()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # notified when a message or a webhook is recorded
        self.held_answers = 0  # answers being held by the hold_answer fault right now
        self._answers_released = True
        self._rng = random.Random(self.options.seed)
        self._stop = threading.Event()
        self._clock_offset = 0.0
        self.apps: dict[str, str] = {}  # app_id → app secret
        self.oas: dict[str, OA] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._codes: dict[str, _Code] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.base_url = ""  # where this fake is reached (set by its server): media URLs start with it
        self._reset_runtime()
        self._dispatcher = _Dispatcher(self)

    # -- time ------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self._lock:
            self._clock_offset += float(seconds)

    def _vn_now(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC).astimezone(VN_TZ)

    def _night(self) -> bool:
        mode = self.faults.night_ban
        if mode == "on":
            return True
        if mode == "clock":
            hour = self._vn_now().hour
            return hour >= 22 or hour < 6
        return False

    # -- state -----------------------------------------------------------------------------------

    def _reset_runtime(self) -> None:
        self.citizens: dict[tuple[str, str], Citizen] = {}
        self.messages: list[dict[str, Any]] = []
        self.key_counts: Counter[str] = Counter()
        self.request_counts: Counter[str] = Counter()
        self.accepted_counts: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.webhook_counts: Counter[str] = Counter()
        self._zns_used: dict[tuple[str, str], int] = {}
        self._rate_window: dict[str, tuple[int, int]] = {}
        self._clock_offset = 0.0
        self.media: dict[str, dict[str, Any]] = {}  # id → bytes, content type, name (served at /_fake/media/)
        self._articles: dict[str, _Article] = {}  # by token
        self._article_ids: dict[str, _Article] = {}

    def reset(self, tokens: bool = False) -> None:
        with self._lock:
            self._reset_runtime()
            self.faults = Faults()
            self.release_answers()
            if tokens:
                self._access.clear()
                self._codes.clear()
                self._refresh = {k: v for k, v in self._refresh.items() if v.registered}
                for record in self._refresh.values():
                    record.used = False
                    record.expires_at = self.now() + self.options.refresh_token_lifetime

    def register(
        self,
        app_id: str,
        app_secret: str,
        oa_id: str,
        oa_secret_key: str,
        refresh_token: str | None = None,
        webhook_url: str | None = None,
        name: str = "",
    ) -> str:
        """Register (or update) an OA of an app; returns a valid refresh token for it."""
        app_id, oa_id = str(app_id), str(oa_id)
        with self._lock:
            self.apps[app_id] = app_secret
            previous = self.oas.get(oa_id)
            self.oas[oa_id] = OA(
                app_id,
                oa_id,
                oa_secret_key,
                name or (previous.name if previous else "") or f"OA {oa_id}",
                webhook_url if webhook_url is not None else (previous.webhook_url if previous else None),
            )
            refresh_token = refresh_token or secrets.token_urlsafe(32)
            existing = self._refresh.get(refresh_token)
            if existing is None or existing.oa_id != oa_id:
                self._refresh[refresh_token] = _RefreshToken(
                    app_id, oa_id, self.now() + self.options.refresh_token_lifetime, registered=True
                )
            return refresh_token

    def issue_tokens(self, oa_id: str) -> dict[str, str]:
        """A fresh pair for an OA without the OAuth round trip (control API / tests)."""
        with self._lock:
            oa = self._oa(oa_id)
            return self._issue_pair(oa.app_id, oa.oa_id)

    def _issue_pair(self, app_id: str, oa_id: str) -> dict[str, str]:
        now = self.now()
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        self._access[access] = _AccessToken(app_id, oa_id, now + self.options.token_lifetime)
        self._refresh[refresh] = _RefreshToken(app_id, oa_id, now + self.options.refresh_token_lifetime, access)
        return {"access_token": access, "refresh_token": refresh, "expires_in": str(int(self.options.token_lifetime))}

    def expire_tokens(self, refresh: bool = False) -> None:
        with self._lock:
            now = self.now()
            for token in self._access.values():
                token.expires_at = min(token.expires_at, now - 1)
            if refresh:
                for rt in self._refresh.values():
                    rt.expires_at = min(rt.expires_at, now - 1)

    def issue_code(self, oa_id: str, code_challenge: str) -> str:
        with self._lock:
            oa = self._oa(oa_id)
            code = secrets.token_urlsafe(32)
            self._codes[code] = _Code(oa.app_id, oa.oa_id, code_challenge, self.now() + self.options.code_lifetime)
            return code

    def set_options(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in changes.items():
                if name not in {f.name for f in fields(FakeOptions)}:
                    raise ValueError(f"unknown option {name!r}")
                setattr(self.options, name, _coerce(value, getattr(self.options, name), name))
            return asdict(self.options)

    def _oa(self, oa_id: str | None) -> OA:
        if not oa_id:
            if len(self.oas) == 1:
                return next(iter(self.oas.values()))
            raise ValueError("oa_id is required when several OAs are registered")
        try:
            return self.oas[str(oa_id)]
        except KeyError:
            raise ValueError(f"unknown oa_id {oa_id!r}") from None

    def _citizen(self, oa_id: str, user_id: str) -> Citizen:
        key = (oa_id, str(user_id))
        citizen = self.citizens.get(key)
        if citizen is None:
            citizen = self.citizens[key] = Citizen(oa_id, str(user_id))
        return citizen

    # -- citizen simulation ----------------------------------------------------------------------

    def follow(self, user_id: str, oa_id: str | None = None, name: str = "") -> dict[str, Any]:
        with self._lock:
            oa = self._oa(oa_id)
            citizen = self._citizen(oa.oa_id, user_id)
            citizen.name = name or citizen.name
            if not citizen.follower:
                citizen.follower, citizen.followed_at = True, self.now()
            event = self._follow_event(oa, citizen.user_id, "follow")
        return self._emit(oa, event)

    def unfollow(self, user_id: str, oa_id: str | None = None) -> dict[str, Any]:
        with self._lock:
            oa = self._oa(oa_id)
            citizen = self._citizen(oa.oa_id, user_id)
            citizen.follower, citizen.followed_at = False, None
            event = self._follow_event(oa, citizen.user_id, "unfollow")
        return self._emit(oa, event)

    def interact(self, user_id: str, oa_id: str | None = None, seconds_ago: float = 0.0) -> None:
        with self._lock:
            oa = self._oa(oa_id)
            self._touch(self._citizen(oa.oa_id, user_id), self.now() - float(seconds_ago))

    def _touch(self, citizen: Citizen, at: float) -> None:
        citizen.last_interaction = at
        citizen.reply_remaining = self.options.cs_reply_quota

    def send_text(self, user_id: str, text: str, oa_id: str | None = None, sync: bool = False) -> dict[str, Any]:
        """The citizen writes to the OA: interaction + inbound message + signed ``user_send_text``."""
        with self._lock:
            oa = self._oa(oa_id)
            now = self.now()
            citizen = self._citizen(oa.oa_id, user_id)
            self._touch(citizen, now)
            msg_id = _new_id()
            self._record(
                {
                    "kind": "in",
                    "direction": "in",
                    "oa_id": oa.oa_id,
                    "recipient": citizen.user_id,
                    "text": str(text),
                    "msg_id": msg_id,
                    "key": None,
                }
            )
            event = {
                "app_id": oa.app_id,
                "user_id_by_app": citizen.user_id,
                "event_name": "user_send_text",
                "sender": {"id": citizen.user_id},
                "recipient": {"id": oa.oa_id},
                "message": {"text": str(text), "msg_id": msg_id},
                "timestamp": _ms(now),
            }
        result = self._emit(oa, event, sync=sync)
        result["msg_id"] = msg_id
        return result

    def _follow_event(self, oa: OA, user_id: str, name: str) -> dict[str, Any]:
        return {
            "app_id": oa.app_id,
            "oa_id": oa.oa_id,
            "user_id_by_app": user_id,
            "event_name": name,
            "follower": {"id": user_id},
            "source": "oa_profile",
            "timestamp": _ms(self.now()),
        }

    # -- records ---------------------------------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry.setdefault("time", _ms(self.now()))
        self.messages.append(entry)
        if entry.get("direction") == "out":
            self.accepted_counts[entry["kind"]] += 1
        overflow = len(self.messages) - self.options.max_messages
        if overflow > 0:
            del self.messages[:overflow]
        with self._changed:
            self._changed.notify_all()
        return entry

    def wait_until(self, predicate: Any, timeout: float = 15.0) -> Any:
        """Block until ``predicate(self)`` is true (checked under the lock whenever a message or a
        webhook outcome is recorded); returns its value, or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (value := predicate(self)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the fake Zalo never reached the awaited state")
                self._changed.wait(remaining)
            return value

    def find_messages(self, **filters: str | None) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in filters.items() if v not in (None, "")}
        with self._lock:
            return [dict(m) for m in self.messages if all(str(m.get(k)) == str(v) for k, v in wanted.items())]

    def count(self, key: str) -> int:
        with self._lock:
            return self.key_counts.get(key, 0)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self.request_counts.values()),
                "requests_by_path": dict(self.request_counts),
                "accepted": dict(self.accepted_counts),
                "faults_injected": dict(self.fault_counts),
                "webhooks": {**dict(self.webhook_counts), "pending": self._dispatcher.pending()},
                "keys": len(self.key_counts),
                "duplicates": {k: n for k, n in self.key_counts.items() if n > 1},
                "messages": len(self.messages),
                "citizens": len(self.citizens),
                "clock_offset": self._clock_offset,
            }


def build_fake(
    apps: list[str | dict[str, Any]] | None = None, faults: dict[str, Any] | None = None, **options: Any
) -> FakeZalo:
    """A :class:`FakeZalo` with ``apps`` (``"a:s:oa:k:rt"`` strings or dicts) and option overrides."""
    valid = {f.name for f in fields(FakeOptions)}
    unknown = set(options) - valid
    if unknown:
        raise TypeError(f"unknown fake options: {sorted(unknown)}")
    fake = FakeZalo(FakeOptions(**options))
    for app in apps or []:
        spec = parse_app_spec(app) if isinstance(app, str) else dict(app)
        fake.register(**spec)
    if faults:
        fake.set_faults(**faults)
    return fake
