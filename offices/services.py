"""Creating departments and officers: the one place seed data and admin helpers write them."""

from django.contrib.auth.models import User
from django.db import transaction

from .models import Department, Officer
from .roles import assign_role


def ensure_department(code, name, short_name="", is_reception=False):
    department, _created = Department.objects.get_or_create(
        code=code, defaults={"name": name, "short_name": short_name, "is_reception": is_reception}
    )
    return department


@transaction.atomic
def ensure_officer(*, username, full_name, role, department, title="", phone="", password=None):
    """Create an officer account with its profile and role, or leave an existing one untouched.

    Returns (officer, created). An existing account keeps its password and details.
    """
    existing = Officer.objects.select_related("user").filter(user__username=username).first()
    if existing:
        return existing, False
    last, _, first = full_name.rpartition(" ")
    user = User(username=username, first_name=first, last_name=last, is_staff=True)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    officer = Officer.objects.create(user=user, department=department, title=title, phone=phone)
    assign_role(user, role)
    return officer, True
