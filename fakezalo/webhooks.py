"""Signed webhook delivery to the portal (follow, user_send_*, receipts), from background threads, with retries."""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .protocol import (
    _ms,
    _sign,
)
from .records import OA

if TYPE_CHECKING:
    from .state import FakeZalo


def loopback(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """``http://danang.localhost:8000/…`` → ``http://127.0.0.1:8000/…`` with ``Host: danang.localhost:8000``.

    Browsers resolve every ``*.localhost`` name to the loopback address (RFC 6761), the system resolver
    does not: without this the demo's per-province webhook URLs never resolved, and no delivery receipt
    reached the portal in ``make run``. The Host header keeps the province (the tenant) the URL names.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host != "localhost" and not host.endswith(".localhost"):
        return url, headers
    netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), {**headers, "Host": parts.netloc}


class _Dispatcher:
    """Posts webhooks from background threads at a due time, with retries; stops cleanly."""

    def __init__(self, fake: FakeZalo, workers: int = 4) -> None:
        self._fake = fake
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fake-zalo-webhook")
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(target=self._run, name="fake-zalo-dispatcher", daemon=True)
        self._thread.start()

    def schedule(self, delay: float, job: dict[str, Any]) -> None:
        with self._cond:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._seq), job))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            try:
                self._pool.submit(self._deliver, job)
            except RuntimeError:  # pool shut down
                return

    def post(self, job: dict[str, Any]) -> int | None:
        """One attempt; the HTTP status, or None on a transport failure."""
        headers = {**job["headers"], "num_retry": str(job["attempts"])} if job["attempts"] else job["headers"]
        url, headers = loopback(job["url"], headers)
        request = urllib.request.Request(url, data=job["body"], method="POST", headers=headers)
        try:
            with self._opener.open(request, timeout=self._fake.options.webhook_timeout) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (OSError, ValueError):
            return None

    def _deliver(self, job: dict[str, Any]) -> None:
        if self._stopped:
            return
        status = self.post(job)
        job["attempts"] += 1
        ok = status is not None and 200 <= status < 300
        self._fake._webhook_done(job, status, ok)
        if not ok and job["attempts"] <= self._fake.options.webhook_retries:
            self.schedule(float(2 ** (job["attempts"] - 1)), job)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        self._thread.join(timeout=2)
        self._pool.shutdown(wait=False, cancel_futures=True)


class WebhooksMixin:
    """Events of :class:`~fakezalo.state.FakeZalo` posted to each OA's webhook URL."""

    # -- webhooks --------------------------------------------------------------------------------

    def _webhook_url(self, oa: OA) -> str | None:
        url = oa.webhook_url or self.options.webhook_url
        return url.replace("{oa_id}", oa.oa_id) if url else None

    def _emit(self, oa: OA, event: dict[str, Any], delay: float = 0.0, sync: bool = False) -> dict[str, Any]:
        url = self._webhook_url(oa)
        if not url:
            return {"webhook": None, "event": event}
        raw = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "FakeZalo-Webhook/1.0",
            "X-ZEvent-Signature": _sign(oa.app_id, raw, event["timestamp"], oa.oa_secret_key),
        }
        job = {"url": url, "body": raw, "headers": headers, "attempts": 0, "event_name": event["event_name"]}
        if sync:
            status = self._dispatcher.post(job)
            job["attempts"] = 1
            self._webhook_done(job, status, status is not None and 200 <= status < 300)
            return {"webhook": url, "status": status, "event": event}
        self._dispatcher.schedule(delay, job)
        return {"webhook": url, "status": "queued", "event": event}

    def _webhook_done(self, job: dict[str, Any], status: int | None, ok: bool) -> None:
        with self._lock:
            self.webhook_counts["sent" if ok else "failed"] += 1
            self.webhook_log.append(
                {
                    "time": _ms(time.time()),
                    "url": job["url"],
                    "event_name": job["event_name"],
                    "status": status,
                    "ok": ok,
                    "attempt": job["attempts"],
                    "body": job["body"].decode("utf-8", "replace"),
                }
            )
            self._changed.notify_all()

    def _schedule_receipts(self, oa: OA, recipient: str, msg_id: str, tracking_id: str | None) -> None:
        if not self._webhook_url(oa):
            return
        delivered = self.now() + max(0.0, self.options.delivery_delay)
        message: dict[str, Any] = {"msg_id": msg_id}
        if tracking_id is not None:
            message["tracking_id"] = tracking_id
        message["delivery_time"] = _ms(delivered)
        received = {
            "app_id": oa.app_id,
            "event_name": "user_received_message",
            "sender": {"id": oa.oa_id},
            "recipient": {"id": recipient},
            "message": message,
            "timestamp": _ms(delivered),
        }
        self._emit(oa, received, delay=self.options.delivery_delay)
        seen_delay = self.options.seen_delay
        if seen_delay is not None and seen_delay >= 0:
            total = max(0.0, self.options.delivery_delay) + seen_delay
            seen = {
                "app_id": oa.app_id,
                "event_name": "user_seen_message",
                "sender": {"id": recipient},
                "recipient": {"id": oa.oa_id},
                "message": {"msg_ids": [msg_id]},
                "timestamp": _ms(self.now() + total),
            }
            self._emit(oa, seen, delay=total)
