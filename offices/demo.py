"""Demo departments and officers for one province (called by `seed_demo` inside its schema)."""

from django.conf import settings
from django.db import connection

from provinces.demo import DEMO_DEPARTMENTS, DEMO_OFFICERS, DEMO_PEOPLE, DEMO_WARDS

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
    return logins
