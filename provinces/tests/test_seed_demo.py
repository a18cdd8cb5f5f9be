import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from dossiers.models import Dossier, Procedure, Status
from dossiers.selectors import worklist_counts
from offices.models import Department, Officer
from provinces.models import Domain, Province

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development_mode(settings):
    settings.DEBUG = True  # pytest-django turns DEBUG off; seed_demo is a development command


def counts():
    result = {"provinces": Province.objects.count(), "domains": Domain.objects.count(), "users": User.objects.count()}
    for province in Province.objects.exclude(schema_name="public"):
        with tenant_context(province):
            result[province.slug] = (
                Department.objects.count(),
                Officer.objects.count(),
                User.objects.count(),
                Group.objects.count(),
            )
    return result


def test_seed_demo_twice_gives_the_same_counts(capsys):
    call_command("seed_demo")
    first = counts()
    first_output = capsys.readouterr().out
    call_command("seed_demo")
    assert counts() == first
    assert set(first) >= {"danang", "dongthap", "binhduong", "camau"}
    assert first["danang"] == (7, 6, 6, 4)
    assert "http://danang.localhost:8000/admin/" in first_output
    assert "motcua" in first_output


def test_seed_demo_gives_every_role_every_status_and_live_worklists_in_every_province():
    call_command("seed_demo")
    for province in Province.objects.exclude(schema_name="public"):
        with tenant_context(province):
            roles = set(Group.objects.filter(user__isnull=False).values_list("name", flat=True))
            assert roles == {"Cán bộ một cửa", "Chuyên viên xử lý", "Lãnh đạo", "Quản trị tỉnh"}
            assert Procedure.objects.count() >= 12
            assert set(Dossier.objects.values_list("status", flat=True)) == set(Status.values)
            reception = User.objects.get(username="motcua")
            counts = worklist_counts(reception)
            assert counts["overdue"] >= 2 and counts["supplement"] >= 1 and counts["due_soon"] >= 1
            assert set(Dossier.objects.exclude(grade="").values_list("grade", flat=True)) == {
                "early",
                "on_time",
                "late",
            }


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="chỉ chạy khi DEBUG bật"):
        call_command("seed_demo")
