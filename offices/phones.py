"""Vietnamese phone numbers: one normal form for storage, one for Zalo."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Mobile prefixes after the 2018 renumbering plus landlines (02x); 9–10 digits after the 0.
NATIONAL_RE = re.compile(r"^0(?:[35789]\d{8}|2\d{9})$")


def normalize_phone(value: str) -> str:
    """Return the national form 0xxxxxxxxx, or raise ValidationError with a Vietnamese message."""
    raw = value or ""
    digits = re.sub(r"[\s.\-()]", "", raw)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not NATIONAL_RE.match(digits):
        raise ValidationError(
            _("Số điện thoại “%(value)s” không hợp lệ: nhập 10 số bắt đầu bằng 0 (ví dụ 0905 123 456) hoặc dạng +84."),
            code="invalid_phone",
            params={"value": raw},
        )
    return digits


def phone_for_zalo(value: str) -> str:
    """84 + national number without the leading 0, as Zalo's ZNS expects."""
    return "84" + normalize_phone(value)[1:]


def validate_phone(value):
    normalize_phone(value)
