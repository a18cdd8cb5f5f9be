"""Reception points (điểm tiếp nhận): the province's public-service centre and its wards' one-stop shops.

A point is a `Department` with `is_reception`, its own QCVN 102 agency code (its dossiers' codes and
daily sequence), a kind, the ward's official code (vietnam-provinces), address and opening hours.

Agency codes of ward points (our scheme, used by `seed_demo` and `import_wards`): the province's
code is ``000.00.01.Hnn``; the ward at position ``i`` (1-based) of the province's wards in ascending
order of their official code gets ``000.YY.ZZ.Hnn`` with ``YY = i // 100 + 1`` and ``ZZ = i % 100``
(the 5th ward: ``000.01.05.Hnn``; the 168th: ``000.02.68.Hnn``). ``YY`` is never ``00``, so a ward
never takes a code of the province's own level (``000.00.ZZ.Hnn``: the centre and the departments).
A code is stored when the point is created and never recomputed: should the national list of wards
change, existing points keep theirs and `import_wards` only fills in wards it has no point for.
"""

from functools import lru_cache

from django.db.models import Case, Value, When
from vietnam_provinces import Ward

from .models import Department, PointKind


@lru_cache(maxsize=64)
def wards_of(admin_code):
    """((code, name), …) of a province's wards in ascending official code; empty without a code."""
    if not admin_code:
        return ()
    wards = sorted(Ward.iter_by_province(int(admin_code)), key=lambda w: int(w.code))
    return tuple((str(int(w.code)), " ".join(w.name.split())) for w in wards)


def province_suffix(province_agency_code: str) -> str:
    """The ``Hnn`` of a province's agency code."""
    return province_agency_code.rsplit(".", 1)[-1]


def ward_agency_code(province_agency_code: str, admin_code, ward_code) -> str:
    """The agency code of the ward `ward_code`'s point by the scheme above."""
    codes = [code for code, _name in wards_of(admin_code)]
    index = codes.index(str(int(ward_code))) + 1
    return f"000.{index // 100 + 1:02d}.{index % 100:02d}.{province_suffix(province_agency_code)}"


def points():
    """The active reception points of the current province, the centre first."""
    centre_first = Case(When(point_kind=PointKind.PROVINCE_CENTRE, then=Value(0)), default=Value(1))
    return Department.objects.filter(is_reception=True, is_active=True).order_by(centre_first, "code")


def province_centre():
    """The province's public-service centre: the point of kind province_centre, else the first point."""
    active = Department.objects.filter(is_reception=True, is_active=True)
    return (
        active.filter(point_kind=PointKind.PROVINCE_CENTRE).order_by("code").first() or active.order_by("code").first()
    )


def point_agency_code(point, province) -> str:
    """The code a point's dossiers start with: its own agency code, else the province's."""
    return (point.agency_code if point is not None else "") or province.agency_code


def ward_point_code(ward_code) -> str:
    """The department code of a ward's point: ``MC-<ward code>`` (one-stop shop)."""
    return f"MC-{int(ward_code)}"


def ward_point_name(ward_name: str) -> str:
    return f"Bộ phận một cửa {ward_name}"


def ensure_ward_point(province, ward_code, ward_name, *, address="", opening_hours="", dry_run=False):
    """The point of a ward, created if it has none (by ward code): (point or None when dry, created).

    Idempotent: a ward that already has a point (whatever its code, name or agency code) is left as it is."""
    existing = Department.objects.filter(point_kind=PointKind.WARD, ward_code=str(int(ward_code))).first()
    if existing is not None:
        return existing, False
    agency_code = ward_agency_code(province.agency_code, province.admin_code, ward_code)
    if dry_run:
        return None, True
    point = Department(
        code=ward_point_code(ward_code),
        name=ward_point_name(ward_name),
        short_name=f"Một cửa {ward_name}",
        is_reception=True,
        point_kind=PointKind.WARD,
        ward_code=str(int(ward_code)),
        agency_code=agency_code,
        address=address,
        opening_hours=opening_hours,
    )
    point.full_clean()
    point.save()
    return point, True


def make_centre(department, province, *, address="", opening_hours=""):
    """The province's existing one-stop shop as its centre: the province's agency code, kind province_centre.
    Fields already set are kept."""
    changed = []
    if not department.point_kind:
        department.point_kind = PointKind.PROVINCE_CENTRE
        changed.append("point_kind")
    if not department.agency_code and not Department.objects.filter(agency_code=province.agency_code).exists():
        department.agency_code = province.agency_code
        changed.append("agency_code")
    for name, value in (("address", address), ("opening_hours", opening_hours)):
        if value and not getattr(department, name):
            setattr(department, name, value)
            changed.append(name)
    if changed:
        department.save(update_fields=changed)
    return department
