"""Demo departments and officers for one province (called by `seed_demo` inside its schema)."""

from django.conf import settings
from django.db import connection

from provinces.demo import (
    DEMO_CENTRE_ADDRESS,
    DEMO_DEPARTMENTS,
    DEMO_OFFICERS,
    DEMO_OPENING_HOURS,
    DEMO_PEOPLE,
    DEMO_POINT_ADDRESS,
    DEMO_POINT_OFFICERS,
    DEMO_POINT_WARDS,
    DEMO_WARDS,
)

from .points import ensure_ward_point, make_centre, wards_of
from .security import ensure_demo_device
from .services import ensure_department, ensure_officer


def seed(province):
    ward = DEMO_WARDS.get(province.slug, "phường trung tâm")
    departments = {
        code: ensure_department(code, name.format(ward=ward), short.format(ward=ward), is_reception)
        for code, name, short, is_reception in DEMO_DEPARTMENTS
    }
    people = DEMO_PEOPLE.get(province.slug) or DEMO_PEOPLE["danang"]
    logins = []
    for username, person, role, department_code, title, phone in DEMO_OFFICERS:
        officer, _created = ensure_officer(
            username=username,
            full_name=people[person],
            role=role,
            department=departments[department_code],
            title=title,
            phone=phone,
            password=settings.DEMO_PASSWORD,
        )
        device = ensure_demo_device(officer.user, connection.schema_name)
        logins.append((username, officer.full_name, role, device))
    logins += _seed_points(province, departments["TTHCC"])
    return logins


def _seed_points(province, centre):
    """The centre (TTHCC) and a few real wards' one-stop shops as reception points, one counter officer each."""
    make_centre(
        centre,
        province,
        address=DEMO_CENTRE_ADDRESS.format(province=province.name),
        opening_hours=DEMO_OPENING_HOURS,
    )
    codes = {name: code for code, name in wards_of(province.admin_code)}
    logins = []
    for ward_name, (username, full_name, title, phone) in zip(
        DEMO_POINT_WARDS.get(province.slug, ()), DEMO_POINT_OFFICERS, strict=False
    ):
        point, _created = ensure_ward_point(
            province,
            codes[ward_name],
            ward_name,
            address=DEMO_POINT_ADDRESS.format(ward=ward_name, province=province.name),
            opening_hours=DEMO_OPENING_HOURS,
        )
        officer, _created = ensure_officer(
            username=username,
            full_name=full_name,
            role="reception",
            department=point,
            title=title,
            phone=phone,
            password=settings.DEMO_PASSWORD,
        )
        device = ensure_demo_device(officer.user, connection.schema_name)
        logins.append((username, officer.full_name, "reception", device))
    return logins
