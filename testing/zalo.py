"""Helpers for the zalo tests: a fake Zalo in a thread, a client pointed at it, a webhook receiver.

No Django, no database: everything runs in-process on free localhost ports.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from fakezalo import FakeZalo, FakeZaloServer, run_in_thread
from zalo.client import ZaloClient

APP_ID = "4318000000000000042"
APP_SECRET = "test-app-secret"
OA_ID = "2900000000000000042"
OA_SECRET_KEY = "test-oa-secret-key"
REFRESH_TOKEN = "test-refresh-token-0"
APP = {
    "app_id": APP_ID,
    "app_secret": APP_SECRET,
    "oa_id": OA_ID,
    "oa_secret_key": OA_SECRET_KEY,
    "refresh_token": REFRESH_TOKEN,
    "name": "UBND Thành phố Đà Nẵng",
}


@dataclass
class Env:
    server: FakeZaloServer
    url: str
    client: ZaloClient
    control_http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5.0, trust_env=False))

    @property
    def fake(self) -> FakeZalo:
        return self.server.fake

    def control(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        response = self.control_http.request(method, self.url + path, json=body, params=params or None)
        assert response.status_code == 200, response.text
        return response.json()

    def token(self) -> str:
        return self.control("POST", "/_fake/tokens", {"oa_id": OA_ID})["access_token"]

    def close(self) -> None:
        self.client.close()
        self.control_http.close()
        self.server.stop()


def start_env(timeout: float = 2.0, app_secret: str | None = None, **options: Any) -> Env:
    options.setdefault("delivery_delay", 0.0)
    options.setdefault("seen_delay", None)
    server, url = run_in_thread(apps=[APP], **options)
    client = ZaloClient(url, url, url, timeout=timeout, app_secret=app_secret)
    return Env(server, url, client)


class WebhookReceiver:
    """A tiny portal stand-in: records every POST (headers, raw body) and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver._cond.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/zalo/webhook/{{oa_id}}/"

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for headers, body in self.calls:
                    if predicate(json.loads(body)):
                        return headers, body
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching webhook among {len(self.calls)} received")
                self._cond.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
