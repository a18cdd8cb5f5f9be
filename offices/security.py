"""Officer login security: who needs a second factor, TOTP devices, the client address for lockouts.

The login form, the enrolment page and the middleware all ask these functions, so the rule "who must
use a second factor" is written once.
"""

import base64
import hashlib
import hmac
import ipaddress
import time

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from .roles import LEADER, PROVINCE_ADMIN

# Roles whose accounts may not use the admin without a confirmed second factor.
SECOND_FACTOR_ROLES = (PROVINCE_ADMIN.group_name, LEADER.group_name)


def client_ip(request):
    """The client address django-axes counts failures against: the same one the lookup limits use.

    Axes stores it in an IP address column: a network (an IPv6 /64) is stored as its first address,
    and a request with no address at all (a test client's `force_login`) as NULL.
    """
    from egov.ratelimit import client_address

    value = str(client_address(request) or "").strip()
    try:
        return (
            str(ipaddress.ip_network(value, strict=False).network_address)
            if "/" in value
            else str(ipaddress.ip_address(value))
        )
    except ValueError:
        return None


def requires_second_factor(user):
    """National admins (superusers), province admins and leaders must log in with a TOTP code."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=SECOND_FACTOR_ROLES).exists()


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verify_code(device, code):
    """Check a TOTP code under the device's row lock, so one code can be used once only.

    django-otp refuses a time step at or before the device's `last_t`; the lock makes two
    concurrent logins with the same code see each other's `last_t`. Returns the device or None.
    """
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit():
        if device is not None:
            device.throttle_increment(commit=True)
        return None
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _extra = locked.verify_is_allowed()
        if not allowed:
            return None
        if locked.verify_token(code):
            return locked
    return None


def throttled(device):
    allowed, _extra = device.verify_is_allowed()
    return not allowed


def demo_secret(schema_name, username):
    """A fixed TOTP secret (20 bytes, hex) for a demo account: the same on every re-seed.

    Derived from the demo password, the schema and the username, so it is predictable only to
    whoever knows DEMO_PASSWORD (which is already public for the demo).
    """
    material = f"{schema_name}:{username}".encode()
    return hmac.new(settings.DEMO_PASSWORD.encode(), material, hashlib.sha256).hexdigest()[:40]


def base32_secret(device):
    """The secret as authenticator apps and `oathtool --totp -b` take it."""
    return base64.b32encode(device.bin_key).decode()


def current_code(device, at=None):
    """The code an authenticator would show now for this device (for the demo helper command)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def ensure_demo_device(user, schema_name):
    """Give a demo account a confirmed authenticator with its fixed secret, unless it has one already."""
    device = confirmed_device(user)
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Demo", key=demo_secret(schema_name, user.get_username()), confirmed=True
        )
    return device
