"""Start-up checks of production settings (imported by egov/settings.py: standard library only).

With DEBUG off the portal refuses to start when a Zalo base URL could leak the OA's tokens and
secrets: plain http, or a host that is loopback, private, link-local or otherwise not a public
address (``localhost``, ``127.0.0.1``, ``10.x``, ``192.168.x``, ``169.254.x``, ``::1``, ``fc00::/7``…).
Host names are judged as written; they are not resolved at start-up.
"""

import ipaddress
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def insecure_url_reason(url):
    """Why `url` must not carry production secrets, or '' when it is an https URL of a public host."""
    try:
        parts = urlsplit(url or "")
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return "not a valid URL"
    if parts.scheme != "https":
        return "not https"
    if not host:
        return "no host"
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return "a loopback host name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host.isdigit() or host.startswith("0x"):
            return "a numeric host"  # 2130706433 or 0x7f000001 is 127.0.0.1 to many clients
        return ""
    if not address.is_global:
        return "a loopback, private or reserved address"
    return ""


def check_zalo_base_urls(urls):
    """ImproperlyConfigured's message for the first unsafe URL of {setting name: url}, or ''."""
    for name, url in urls.items():
        reason = insecure_url_reason(url)
        if reason:
            return (
                f"{name}={url!r} is {reason}. With DEBUG=0 the Zalo base URLs must be https URLs of public "
                "hosts (the OA's tokens and secrets travel to them); set ZALO_ALLOW_INSECURE_BASE_URLS=1 "
                "only to run production settings against a local fake."
            )
    return ""
