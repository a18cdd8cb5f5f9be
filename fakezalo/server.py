"""HTTP/1.1 server around the fake, ``run_in_thread`` for tests and the ``python -m fakezalo`` entry point."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .protocol import (
    DEFAULT_DEMO_APP,
    DROP,
    MAX_BODY,
    Request,
    Response,
    parse_app_spec,
)
from .state import FakeZalo, build_fake


class _Headers(dict):
    """Request headers with lower-cased names; ``get`` is case-insensitive."""

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name: str) -> Any:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeZalo/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are closed after this

    server: FakeZaloServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write("fake-zalo: " + (format % args) + "\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.verbose:
            super().log_request(code, size)

    def parse_request(self) -> bool:
        """Like the stdlib's, with a plain header parser instead of the (slow) email parser."""
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3:
            self.send_error(400, "Bad request line")
            return False
        command, path, version = words
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(505, "HTTP version not supported")
            return False
        self.command, self.path, self.request_version = command, path, version
        headers = _Headers()
        while True:
            line = self.rfile.readline(65537)
            if len(line) > 65536 or len(headers) > 100:
                self.send_error(431, "Request header fields too large")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.decode("iso-8859-1").partition(":")
            if not sep:
                self.send_error(400, "Bad header line")
                return False
            headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" if version == "HTTP/1.1" else connection != "keep-alive"
        if version == "HTTP/1.1" and headers.get("expect", "").lower() == "100-continue":
            return self.handle_expect_100()
        return True

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    do_PUT = do_DELETE = do_POST

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._write(Response(400, b'{"error":"bad request body"}'), close=True)
            return
        split = urlsplit(self.path)
        request = Request(self.command, split.path, parse_qs(split.query), self.headers, body)
        result = self.server.fake.handle(request)
        if result is DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert isinstance(result, Response)
        self._write(result)

    def _write(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in response.headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
        # One write for headers and body (no Nagle/delayed-ACK stall on keep-alive connections).
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(response.body)
        self.flush_headers()


class FakeZaloServer(ThreadingHTTPServer):
    """HTTP/1.1 keep-alive server around a :class:`FakeZalo`; ``stop()`` shuts everything down."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeZalo, verbose: bool = False) -> None:
        self.fake = fake
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)
        fake.base_url = fake.base_url or self.base_url

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn), slow without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    def serve_in_thread(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="fake-zalo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if started by ``serve_in_thread``), then :meth:`server_close`. Idempotent."""
        self.fake._stop.set()
        self.fake.release_answers()  # wakes held answers
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def server_close(self) -> None:
        """Close the listening socket and open keep-alive connections, stop the webhook threads."""
        self.fake._stop.set()
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.fake._dispatcher.stop()
        super().server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_in_thread(
    port: int = 0,
    host: str = "127.0.0.1",
    apps: list[str | dict[str, Any]] | None = None,
    faults: dict[str, Any] | None = None,
    verbose: bool = False,
    **options: Any,
) -> tuple[FakeZaloServer, str]:
    """Start the fake on ``host:port`` (0 = a free port) in a daemon thread → ``(server, base_url)``.

    ``server.fake`` is the :class:`FakeZalo` (call its methods directly in tests); ``server.stop()``
    shuts down cleanly. Keywords are :class:`FakeOptions` fields.
    """
    fake = build_fake(apps, faults, **options)
    server = FakeZaloServer((host, port), fake, verbose=verbose)
    server.serve_in_thread()
    return server, server.base_url


def _load_config(path: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any], dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    return (
        list(config.get("apps", [])),
        dict(config.get("options", {})),
        dict(config.get("faults", {})),
        dict(config.get("templates", {})),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakezalo", description="Local fake Zalo (OAuth, OpenAPI, ZNS).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APP_ID:APP_SECRET:OA_ID:OA_SECRET_KEY:REFRESH_TOKEN",
        help="register an OA (repeatable); without --app/--config a demo OA is registered",
    )
    parser.add_argument(
        "--config", help='JSON file: {"apps":[{...}], "options":{...}, "faults":{...}, "templates":{...}}'
    )
    parser.add_argument("--portal-webhook-url", help="default webhook URL for every OA; {oa_id} is replaced")
    parser.add_argument("--token-lifetime", type=float)
    parser.add_argument("--refresh-token-lifetime", type=float)
    parser.add_argument("--old-token-grace", type=float)
    parser.add_argument("--reused-refresh-answer", choices=("error", "empty"))
    parser.add_argument("--cs-window-days", type=float)
    parser.add_argument("--cs-reply-quota", type=int)
    parser.add_argument("--zns-daily-quota", type=int)
    parser.add_argument("--rate-limit-per-minute", type=int)
    parser.add_argument("--require-appsecret-proof", action="store_true", default=None)
    parser.add_argument("--article-processing", type=float)
    parser.add_argument("--delivery-delay", type=float)
    parser.add_argument("--seen-delay", type=float, help="negative: never send user_seen_message")
    parser.add_argument("--webhook-retries", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--night-ban", choices=("off", "on", "clock"))
    parser.add_argument("--rate-limit-next", type=int)
    parser.add_argument("--rate-limit-ratio", type=float)
    parser.add_argument("--http-error-next", type=int)
    parser.add_argument("--http-error-status", type=int)
    parser.add_argument("--drop-next", type=int)
    parser.add_argument("--drop-after-processing", action="store_true", default=None)
    parser.add_argument("--slow-seconds", type=float)
    parser.add_argument("--slow-next", type=int)
    parser.add_argument("--quota-exhausted", action="store_true", default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    apps: list[str | dict[str, Any]] = []
    options: dict[str, Any] = {}
    faults: dict[str, Any] = {}
    templates: dict[str, Any] = {}
    if args.config:
        config_apps, options, faults, templates = _load_config(args.config)
        apps.extend(config_apps)
    try:
        apps.extend(parse_app_spec(spec) for spec in args.app)
    except ValueError as exc:
        parser.error(str(exc))
    if not apps:
        apps.append(DEFAULT_DEMO_APP)
    option_flags = {
        "webhook_url": args.portal_webhook_url,
        "token_lifetime": args.token_lifetime,
        "refresh_token_lifetime": args.refresh_token_lifetime,
        "old_token_grace": args.old_token_grace,
        "reused_refresh_answer": args.reused_refresh_answer,
        "cs_window": args.cs_window_days * 86400 if args.cs_window_days is not None else None,
        "cs_reply_quota": args.cs_reply_quota,
        "zns_daily_quota": args.zns_daily_quota,
        "rate_limit_per_minute": args.rate_limit_per_minute,
        "require_appsecret_proof": args.require_appsecret_proof,
        "article_processing": args.article_processing,
        "delivery_delay": args.delivery_delay,
        "seen_delay": args.seen_delay,
        "webhook_retries": args.webhook_retries,
        "seed": args.seed,
    }
    options.update({k: v for k, v in option_flags.items() if v is not None})
    fault_flags = {
        "night_ban": args.night_ban,
        "rate_limit_next": args.rate_limit_next,
        "rate_limit_ratio": args.rate_limit_ratio,
        "http_error_next": args.http_error_next,
        "http_error_status": args.http_error_status,
        "drop_next": args.drop_next,
        "drop_after_processing": args.drop_after_processing,
        "slow_seconds": args.slow_seconds,
        "slow_next": args.slow_next,
        "quota_exhausted": args.quota_exhausted,
    }
    faults.update({k: v for k, v in fault_flags.items() if v is not None})
    try:
        fake = build_fake(apps, faults, **options)
    except (TypeError, ValueError, KeyError) as exc:
        parser.error(f"bad configuration: {exc}")
    fake.templates.update({str(k): dict(v) for k, v in templates.items()})
    server = FakeZaloServer((args.host, args.port), fake, verbose=args.verbose)
    print(f"Fake Zalo on {server.base_url} (OAuth, OpenAPI and ZNS base URL); page: {server.base_url}/_fake/")
    for oa in fake.oas.values():
        print(f"  OA {oa.oa_id} of app {oa.app_id}: webhook {fake._webhook_url(oa) or '(none)'}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
