"""Fault switches (``POST /_fake/faults``) and how a request meets them: drops, 5xx, −32, slow and held answers."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .protocol import (
    Response,
    _Answer,
    _coerce,
)

if TYPE_CHECKING:
    from .state import FakeZalo


@dataclass
class Faults:
    rate_limit_next: int = 0
    rate_limit_ratio: float = 0.0
    http_error_next: int = 0
    http_error_status: int = 503
    drop_next: int = 0
    drop_after_processing: bool = False
    slow_seconds: float = 0.0
    slow_next: int = 0
    quota_exhausted: bool = False
    night_ban: str = "off"
    fail_recipients: dict[str, int] = field(default_factory=dict)
    fault_paths: list[str] = field(default_factory=list)
    hold_answer_next: int = 0
    hold_answer_seconds: float = 0.0
    hold_answer_until_released: bool = False
    media_error_next: int = 0  # the next N fetches of /_fake/media/ answer http_error_status (a CDN hiccup)


class FaultsMixin:
    """Fault switches of :class:`~fakezalo.state.FakeZalo`."""

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in changes.items():
                if name not in {f.name for f in fields(Faults)}:
                    raise ValueError(f"unknown fault switch {name!r}")
                if name == "night_ban":
                    value = {True: "on", False: "off"}.get(value, value)
                    if value not in ("on", "off", "clock"):
                        raise ValueError("night_ban is on, off or clock")
                setattr(self.faults, name, _coerce(value, getattr(self.faults, name), name))
                if name == "hold_answer_until_released" and self.faults.hold_answer_until_released:
                    self._answers_released = False
            return asdict(self.faults)

    def release_answers(self) -> None:
        """Let the answers held by ``hold_answer_until_released`` go (they are lost: connection closed)."""
        with self._changed:
            self._answers_released = True
            self._changed.notify_all()

    def _hold_answer(self, path: str, response: Response) -> bool:
        """The "accepted, answer lost" fault: hold an accepted message's answer, then lose it.

        Held until the portal has acknowledged the message's delivery receipt (if a webhook URL is
        set), then until released (``hold_answer_until_released``), then ``hold_answer_seconds``
        more; returns False when the fault is not armed."""
        try:
            data = json.loads(response.body).get("data") or {}
        except (ValueError, AttributeError):
            return False
        msg_id = str(data.get("msg_id") or data.get("message_id") or "")
        if not msg_id:
            return False  # refused: nothing was accepted, the answer goes back as is
        with self._changed:
            paths = self.faults.fault_paths
            if self.faults.hold_answer_next <= 0 or (paths and not any(path.startswith(p) for p in paths)):
                return False
            self.faults.hold_answer_next -= 1
            self.fault_counts["hold_answer"] += 1
            message = next((m for m in reversed(self.messages) if m.get("msg_id") == msg_id), None)
            oa = self.oas.get(message["oa_id"]) if message else None
            has_webhook = bool(oa and self._webhook_url(oa))
            seconds = self.faults.hold_answer_seconds
            until_released = self.faults.hold_answer_until_released
            self.held_answers += 1
            self._changed.notify_all()
        try:
            self._hold(msg_id, has_webhook, until_released, seconds)
        finally:
            with self._changed:
                self.held_answers -= 1
                self._changed.notify_all()
        return True

    def _hold(self, msg_id: str, has_webhook: bool, until_released: bool, seconds: float) -> None:
        def receipt_acknowledged(fake: FakeZalo) -> bool:
            return fake._stop.is_set() or any(
                w["ok"] and w["event_name"] == "user_received_message" and f'"msg_id":"{msg_id}"' in w["body"]
                for w in fake.webhook_log
            )

        if has_webhook:
            with contextlib.suppress(TimeoutError):
                self.wait_until(receipt_acknowledged, timeout=60)
        if until_released:
            with contextlib.suppress(TimeoutError):
                self.wait_until(lambda fake: fake._answers_released or fake._stop.is_set(), timeout=300)
        self._stop.wait(seconds)

    def _take_faults(self, path: str) -> Any:
        """Decide, under the lock, which fault (if any) this request gets; counters go down here."""
        f = self.faults
        if f.fault_paths and not any(path.startswith(p) for p in f.fault_paths):
            return None
        if f.drop_next > 0 and not f.drop_after_processing:
            f.drop_next -= 1
            self.fault_counts["drop"] += 1
            return "drop_before"
        if f.http_error_next > 0:
            f.http_error_next -= 1
            self.fault_counts["http_error"] += 1
            return "http"
        if f.rate_limit_next > 0:
            f.rate_limit_next -= 1
            self.fault_counts["rate_limit"] += 1
            return "rate"
        if f.rate_limit_ratio > 0 and self._rng.random() < f.rate_limit_ratio:
            self.fault_counts["rate_limit"] += 1
            return "rate"
        after = None
        if f.drop_next > 0 and f.drop_after_processing:
            f.drop_next -= 1
            self.fault_counts["drop_after_processing"] += 1
            after = "drop_after"
        if f.slow_seconds > 0:
            delay = f.slow_seconds
            if f.slow_next > 0:
                f.slow_next -= 1
                if f.slow_next == 0:
                    f.slow_seconds = 0.0
            self.fault_counts["slow"] += 1
            return ("slow", delay, after)
        return after

    def _recipient_fault(self, recipient: str) -> None:
        code = self.faults.fail_recipients.get(recipient)
        if code is not None:
            raise _Answer(int(code), f"Người nhận {recipient} không thể nhận tin (giả lập lỗi {code})")
