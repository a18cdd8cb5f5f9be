"""Validation of what identifies a province: slug, domain, agency code, administrative code."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from vietnam_provinces import Province as AdminProvince
from vietnam_provinces import ProvinceCode

from dossiers.codes import AGENCY_CODE_RE

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{1,39}$")
# QCVN 102:2016/BTTTT agency code: XXX.YY.ZZ.Hnn (dossiers.codes.AGENCY_CODE_RE)
DOMAIN_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
RESERVED_SLUGS = {"public", "information_schema", "admin", "www", "api", "static"}


def validate_slug(value):
    if not SLUG_RE.match(value or ""):
        raise ValidationError(
            _(
                "Mã tỉnh (slug) “%(value)s” không hợp lệ: chỉ dùng chữ thường không dấu và chữ số, "
                "bắt đầu bằng chữ, dài 2–40 ký tự (ví dụ: danang)."
            ),
            code="invalid_slug",
            params={"value": value},
        )
    if value in RESERVED_SLUGS or value.startswith("pg_"):
        raise ValidationError(
            _("Mã tỉnh “%(value)s” là tên dành riêng của hệ thống."), code="reserved_slug", params={"value": value}
        )


def validate_domain(value):
    value = value or ""
    if "_" in value:
        raise ValidationError(
            _("Tên miền “%(value)s” không được chứa dấu gạch dưới “_” (trình duyệt và Django sẽ từ chối nó)."),
            code="domain_underscore",
            params={"value": value},
        )
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL_RE.match(label) for label in labels):
        raise ValidationError(
            _(
                "Tên miền “%(value)s” không hợp lệ: dùng chữ thường, chữ số, dấu “-” và dấu chấm, "
                "ví dụ danang.localhost."
            ),
            code="invalid_domain",
            params={"value": value},
        )


def validate_agency_code(value):
    if not AGENCY_CODE_RE.match(value or ""):
        raise ValidationError(
            _(
                "Mã định danh cơ quan “%(value)s” không đúng dạng XXX.YY.ZZ.Hnn của QCVN 102:2016 "
                "(ví dụ: 000.00.01.H20)."
            ),
            code="invalid_agency_code",
            params={"value": value},
        )


def validate_admin_code(value):
    try:
        AdminProvince.from_code(ProvinceCode(int(value)))
    except (ValueError, TypeError):
        raise ValidationError(
            _("Mã đơn vị hành chính “%(value)s” không có trong danh mục 34 tỉnh, thành phố hiện hành."),
            code="invalid_admin_code",
            params={"value": value},
        ) from None


def admin_province_name(code):
    """Official name of the administrative province for a code, e.g. 48 → Thành phố Đà Nẵng."""
    return AdminProvince.from_code(ProvinceCode(int(code))).name
