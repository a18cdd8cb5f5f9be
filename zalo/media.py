"""Fetching what a citizen sent in the OA chat (``user_send_image`` / ``user_send_file``) from the URL
in the event (docs/zalo-api.md: Zalo's CDN, URLs that expire) — without letting a URL make the portal
reach anything else (SSRF).

The URL comes from a signed event, but what it points at is still not ours, and a CDN may redirect:

- only ``http``/``https``; ``https`` for every host but the configured Zalo base URLs (the local fake
  in development; production settings require those to be https on public hosts);
- the host must be one of Zalo's CDN domains (``ZALO_MEDIA_HOSTS``, suffix match) or the host of a
  configured Zalo base URL;
- every address the host resolves to, and the address actually connected to, must be public (no
  loopback, private, link-local, multicast, reserved, or the cloud metadata address) — except for the
  configured base URL hosts, which the operator named;
- redirects are never followed by the HTTP client: each hop is checked as above (at most
  ``MAX_REDIRECTS``), so a CDN answer cannot send the fetch to ``169.254.169.254`` or ``127.0.0.1``;
- the body is streamed and abandoned past ``max_bytes`` (a declared ``Content-Length`` above it is
  refused before reading), with the Zalo HTTP timeout on connect and on each read, and a total
  deadline.

:class:`Refused` is final (the citizen is told, in Vietnamese, to send again); :class:`Unavailable`
is worth retrying (timeout, connection error, 5xx).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 3


class Refused(Exception):
    """The file cannot be fetched and retrying will not help; ``message`` is for the citizen."""

    def __init__(self, message, reason=""):
        super().__init__(reason or message)
        self.message = message
        self.reason = reason or str(message)


class Unavailable(Exception):
    """Zalo's CDN did not answer properly (timeout, connection, 5xx): try again later."""


@dataclass
class Fetched:
    content: bytes
    content_type: str
    url: str


def _configured_hosts() -> set[tuple[str, int]]:
    hosts = set()
    for name in ("ZALO_OAUTH_BASE_URL", "ZALO_OPENAPI_BASE_URL", "ZALO_BUSINESS_BASE_URL"):
        parts = urlsplit(getattr(settings, name, "") or "")
        if parts.hostname:
            hosts.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
    return hosts


def _cdn_host(host: str) -> bool:
    for suffix in settings.ZALO_MEDIA_HOSTS:
        suffix = suffix.strip().lower()
        if not suffix:
            continue
        if suffix.startswith("."):
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == suffix:
            return True
    return False


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def _not_allowed():
    return Refused(_("Không tải được tệp: địa chỉ tệp không phải của Zalo. Vui lòng gửi lại."), "host not allowed")


def check_url(url: str) -> bool:
    """Raise :class:`Refused` unless ``url`` may be fetched; True when its host is a configured base URL's
    (trusted by configuration, addresses not checked)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _not_allowed() from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise _not_allowed()
    if (host, port) in _configured_hosts():
        return True
    if parts.scheme != "https" or not _cdn_host(host):
        raise _not_allowed()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unavailable(f"cannot resolve {host}") from exc
    if not infos or not all(_public(info[4][0]) for info in infos):
        raise _not_allowed()
    return False


def _peer_is_public(response: httpx.Response) -> bool:
    """The address the connection actually went to (DNS may answer differently the second time)."""
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("server_addr") if stream is not None else None
    if not address:
        return False
    return _public(str(address[0]))


def fetch(url: str, max_bytes: int, *, client: httpx.Client | None = None) -> Fetched:
    """The bytes at ``url`` (at most ``max_bytes``; :class:`Refused` when larger)."""
    timeout = settings.ZALO_HTTP_TIMEOUT
    deadline = time.monotonic() + max(timeout * 3, 5)
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            trusted = check_url(url)
            try:
                with client.stream("GET", url, headers={"Accept": "image/*, application/pdf, */*"}) as response:
                    if not trusted and not _peer_is_public(response):
                        raise _not_allowed()
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        if not location:
                            raise Unavailable("redirect without a location")
                        url = urljoin(url, location)
                        continue
                    if response.status_code >= 500 or response.status_code == 429:
                        raise Unavailable(f"HTTP {response.status_code}")
                    if response.status_code != 200:
                        raise Refused(
                            _("Không tải được tệp từ Zalo (liên kết đã hết hạn hoặc không còn). Vui lòng gửi lại."),
                            f"HTTP {response.status_code}",
                        )
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise TooLarge(int(declared))
                    chunks, size = [], 0
                    for chunk in response.iter_bytes(64 * 1024):
                        size += len(chunk)
                        if size > max_bytes:
                            raise TooLarge(size)
                        if time.monotonic() > deadline:
                            raise Unavailable("download too slow")
                        chunks.append(chunk)
                    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    return Fetched(b"".join(chunks), content_type, url)
            except httpx.HTTPError as exc:
                raise Unavailable(exc.__class__.__name__) from exc
        raise _not_allowed()
    finally:
        if own:
            client.close()


class TooLarge(Refused):
    """Larger than the cap (declared or counted while streaming); the caller may word the message."""

    def __init__(self, size):
        super().__init__(_("Tệp quá lớn, không thể nhận."), f"larger than the cap ({size} bytes or more)")
