"""Fetching a file a citizen sent in the chat (zalo/media.py) is no way into the portal's network.

The attacks, against a real HTTP server on localhost (the configured "Zalo" host): a URL of another
host, a redirect to an internal service or to the cloud metadata address, a Zalo-looking host that
resolves to a private address, an endless body without a length, a huge declared length, a server
that never answers. No database.
"""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zalo import media


class _Server:
    def __init__(self, routes):
        self.hits = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.hits.append(self.path)
                routes.get(self.path.split("?")[0], _not_found)(self, outer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _send(handler, status, body=b"", headers=()):
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _not_found(handler, server):
    _send(handler, 404, b"no")


def _photo(handler, server):
    _send(handler, 200, b"\x89PNG\r\n\x1a\n" + b"x" * 100, [("Content-Type", "image/png")])


def _endless(handler, server):
    """A body with no length that never ends (chunked)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "image/jpeg")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"\xff" * 65536
    try:
        while not server.release.is_set():
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except OSError:
        pass  # the portal hung up: what we want


def _declared_huge(handler, server):
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**12))
    handler.end_headers()
    try:
        handler.wfile.write(b"\xff" * 1024)
    except OSError:
        pass


def _silent(handler, server):
    server.release.wait(30)  # accepts the connection, never answers


def _expired(handler, server):
    _send(handler, 403, b"expired")


def _busy(handler, server):
    _send(handler, 503, b"busy")


def _redirect_to(location):
    def handler_(handler, server):
        _send(handler, 302, b"", [("Location", location)])

    return handler_


@pytest.fixture
def inside():
    """An internal service on this machine that must never be reached through a citizen's URL."""
    server = _Server({"/secret": lambda h, s: _send(h, 200, b"internal secret")})
    yield server
    server.close()


@pytest.fixture
def cdn(settings, inside):
    server = _Server(
        {
            "/photo.png": _photo,
            "/endless": _endless,
            "/huge": _declared_huge,
            "/silent": _silent,
            "/expired": _expired,
            "/busy": _busy,
            "/to-inside": _redirect_to(inside.url + "/secret"),
            "/to-metadata": _redirect_to("http://169.254.169.254/latest/meta-data/"),
            "/to-cdn-looking": _redirect_to("https://photo-stal-9.zdn.vn/x.jpg"),
            "/to-photo": _redirect_to("/photo.png"),
        }
    )
    # The configured Zalo base URL (the fake in development): the one local host the portal may fetch from.
    settings.ZALO_OPENAPI_BASE_URL = server.url
    settings.ZALO_OAUTH_BASE_URL = settings.ZALO_BUSINESS_BASE_URL = "https://oauth.zaloapp.com"
    settings.ZALO_MEDIA_HOSTS = [".zdn.vn"]
    settings.ZALO_HTTP_TIMEOUT = 1.0
    yield server
    server.close()


def test_a_file_on_the_configured_zalo_host_is_fetched_and_a_relative_redirect_followed(cdn):
    fetched = media.fetch(cdn.url + "/to-photo", 10_000)
    assert fetched.content.startswith(b"\x89PNG") and fetched.content_type == "image/png"


@pytest.mark.parametrize(
    "url",
    [
        "{inside}/",  # loopback, not the configured port: a private server that counts any hit
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/a.jpg",
        "http://photo-stal-9.zdn.vn/a.jpg",  # a CDN host, but not https
        "https://user:pw@photo-stal-9.zdn.vn/a.jpg",
        "file:///etc/passwd",
        "gopher://{inside_host}/_INFO",  # another scheme at the same private server, never the shared Redis
        "https://zdn.vn.evil.example/a.jpg",
    ],
)
def test_urls_that_are_not_zalos_are_refused_without_a_connection(cdn, inside, url, monkeypatch):
    resolved = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: resolved.append(a) or [])
    url = url.format(inside=inside.url, inside_host=inside.url.removeprefix("http://"))
    with pytest.raises(media.Refused):
        media.fetch(url, 10_000)
    assert resolved == [] and inside.hits == []


def test_a_redirect_to_an_internal_service_is_refused_before_it_is_asked(cdn, inside):
    with pytest.raises(media.Refused):
        media.fetch(cdn.url + "/to-inside", 10_000)
    assert cdn.hits == ["/to-inside"] and inside.hits == []


def test_a_redirect_to_the_metadata_address_is_refused(cdn):
    with pytest.raises(media.Refused):
        media.fetch(cdn.url + "/to-metadata", 10_000)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::1", "fd00::1", "::ffff:10.1.1.1"])
def test_a_zalo_looking_host_that_resolves_to_a_private_address_is_refused(cdn, monkeypatch, address):
    real = socket.getaddrinfo
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    def resolve(host, *args, **kwargs):
        if host.endswith(".zdn.vn"):
            return [(family, socket.SOCK_STREAM, 6, "", (address, 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(media.Refused):
        media.fetch(cdn.url + "/to-cdn-looking", 10_000)
    with pytest.raises(media.Refused):
        media.fetch("https://photo-stal-9.zdn.vn/a.jpg", 10_000)


def test_an_endless_body_is_abandoned_at_the_cap(cdn):
    with pytest.raises(media.TooLarge):
        media.fetch(cdn.url + "/endless", 300_000)


def test_a_huge_declared_length_is_refused_before_reading(cdn):
    with pytest.raises(media.TooLarge):
        media.fetch(cdn.url + "/huge", 300_000)


def test_a_silent_server_is_a_timeout_to_retry(cdn):
    with pytest.raises(media.Unavailable):
        media.fetch(cdn.url + "/silent", 10_000)


def test_an_expired_url_is_final_and_a_busy_cdn_is_retried(cdn):
    with pytest.raises(media.Refused) as refused:
        media.fetch(cdn.url + "/expired", 10_000)
    assert "gửi lại" in refused.value.message
    with pytest.raises(media.Unavailable):
        media.fetch(cdn.url + "/busy", 10_000)


def test_the_address_actually_connected_to_is_checked_too(cdn, monkeypatch):
    """DNS rebinding: the name resolved to a public address when checked, the connection went elsewhere."""
    monkeypatch.setattr(media, "check_url", lambda url: False)  # as if a public CDN host had been checked
    with pytest.raises(media.Refused):
        media.fetch(cdn.url + "/photo.png", 10_000)  # connected to 127.0.0.1: refused, body never read
    seen = []
    real_public = media._public
    monkeypatch.setattr(media, "_public", lambda address: seen.append(address) or True)
    assert media.fetch(cdn.url + "/photo.png", 10_000).content.startswith(b"\x89PNG")
    assert seen == ["127.0.0.1"] and not real_public("127.0.0.1")
