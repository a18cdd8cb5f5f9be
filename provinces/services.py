"""Creating provinces: the one place where a tenant schema comes into being.

`create_province` validates everything before touching the database, then creates the row, the
schema (with all tenant migrations) and the domain in one transaction, so a failure at any step
leaves neither a row nor a half-migrated schema behind (PostgreSQL DDL is transactional).
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from egov.middleware import PRIMARY_DOMAIN_PREFIX, cached

from .models import Domain, Province
from .validators import validate_admin_code, validate_agency_code, validate_domain, validate_slug


@dataclass(frozen=True)
class ProvinceSpec:
    name: str
    slug: str
    domain: str
    agency_code: str
    admin_code: int | None = None


def ensure_public_tenant():
    """The public schema's row and its domain (the national landing page)."""
    public, _created = Province.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": "Một Cửa", "slug": "public"},
    )
    Domain.objects.get_or_create(domain=settings.PUBLIC_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def _validate(spec: ProvinceSpec):
    errors = []
    if not (spec.name or "").strip():
        errors.append(ValidationError(_("Tên tỉnh không được để trống."), code="name_required"))
    for validator, value in (
        (validate_slug, spec.slug),
        (validate_domain, spec.domain),
        (validate_agency_code, spec.agency_code),
    ):
        try:
            validator(value)
        except ValidationError as exc:
            errors.append(exc)
    if spec.admin_code is not None:
        try:
            validate_admin_code(spec.admin_code)
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)


def _conflicts(spec: ProvinceSpec, existing: Province | None):
    errors = []
    others = Province.objects.exclude(pk=existing.pk) if existing else Province.objects.all()
    if others.filter(schema_name=spec.slug).exists():
        errors.append(ValidationError(_("Lược đồ “%(slug)s” đã thuộc về một tỉnh khác."), params={"slug": spec.slug}))
    other_domain = Domain.objects.filter(domain=spec.domain).exclude(tenant=existing).select_related("tenant").first()
    if other_domain:
        errors.append(
            ValidationError(
                _("Tên miền “%(domain)s” đã được dùng cho “%(other)s”."),
                code="duplicate_domain",
                params={"domain": spec.domain, "other": other_domain.tenant.name},
            )
        )
    other_agency = others.filter(agency_code=spec.agency_code).first()
    if other_agency:
        errors.append(
            ValidationError(
                _("Mã định danh cơ quan “%(code)s” đã được dùng cho “%(other)s”."),
                code="duplicate_agency_code",
                params={"code": spec.agency_code, "other": other_agency.name},
            )
        )
    if existing:
        differences = []
        if existing.name != spec.name:
            differences.append(_("tên “%s”") % existing.name)
        if existing.agency_code != spec.agency_code:
            differences.append(_("mã cơ quan “%s”") % existing.agency_code)
        if spec.admin_code is not None and existing.admin_code != spec.admin_code:
            differences.append(_("mã hành chính %s") % existing.admin_code)
        if not existing.domains.filter(domain=spec.domain).exists():
            domains = ", ".join(existing.domains.values_list("domain", flat=True)) or "—"
            differences.append(_("tên miền “%s”") % domains)
        if differences:
            errors.append(
                ValidationError(
                    _("Mã tỉnh “%(slug)s” đã tồn tại với %(diff)s; không tạo trùng."),
                    code="duplicate_slug",
                    params={"slug": spec.slug, "diff": ", ".join(differences)},
                )
            )
    if errors:
        raise ValidationError(errors)


def create_province(spec: ProvinceSpec) -> tuple[Province, bool]:
    """Create a province (schema + domain), or return the existing identical one.

    Returns (province, created). Raises ValidationError with Vietnamese messages on bad input or
    on a conflict with another province; nothing is written in that case.
    """
    spec = ProvinceSpec(
        name=(spec.name or "").strip(),
        slug=(spec.slug or "").strip().lower(),
        domain=(spec.domain or "").strip().lower(),
        agency_code=(spec.agency_code or "").strip(),
        admin_code=int(spec.admin_code) if spec.admin_code not in (None, "") else None,
    )
    _validate(spec)
    with schema_context(get_public_schema_name()):
        existing = Province.objects.filter(slug=spec.slug).first()
        _conflicts(spec, existing)
        if existing:
            return existing, False
        with transaction.atomic():
            province = Province(
                schema_name=spec.slug,
                name=spec.name,
                slug=spec.slug,
                agency_code=spec.agency_code,
                admin_code=spec.admin_code,
            )
            province.save(verbosity=0)
            connection.set_schema_to_public()
            Domain.objects.create(domain=spec.domain, tenant=province, is_primary=True)
        return province, True


def primary_host(province: Province) -> str:
    """The province's primary domain ('' without one), kept in the web process's tenant cache: every
    receipt and message links to it. Any change of the province's domains drops it (signals.py)."""

    def read():
        domain = province.get_primary_domain()
        return domain.domain if domain else ""

    return cached(PRIMARY_DOMAIN_PREFIX + province.schema_name, read)


def province_url(province: Province, path: str = "/") -> str:
    """Absolute URL on a province's primary domain (development port included)."""
    host = primary_host(province) or settings.PUBLIC_DOMAIN
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT not in ("", "80", "443") else ""
    return f"{settings.SITE_SCHEME}://{host}{port}{path}"
