from datetime import timedelta

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
                Dossier.objects.count(),
            )
    return result


def test_seed_demo_twice_gives_the_same_counts(capsys):
    call_command("seed_demo")
    first = counts()
    first_output = capsys.readouterr().out
    call_command("seed_demo")
    assert counts() == first
    # Five demo provinces since issue 15: hochiminh is the one binhduong can be merged into
    # (`merge_province --from binhduong --into hochiminh`); it is seeded like the others.
    assert set(first) >= {"danang", "dongthap", "binhduong", "camau", "hochiminh"}
    # 7 departments; the 6 demo officers and a leader for each of the 4 other departments that handle
    # procedures (they sign the results of the weeks of history); 4 role groups; the 15 demo dossiers
    # and the history's. Issue 15 adds 3 ward reception points (provinces.demo.DEMO_POINT_WARDS), each
    # with one counter officer: 7 + 3 departments, 10 + 3 officers and users.
    departments, officers, users, groups, dossiers = first["danang"]
    assert (departments, officers, users, groups) == (10, 13, 13, 4)
    assert dossiers > 15 + 20
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


def test_the_demo_history_gives_the_dashboard_weeks_of_every_outcome():
    """reports.demo: twelve weeks of back-dated work through the services (`make run`'s default)."""
    from dossiers.demo import seed as seed_dossiers
    from offices.demo import seed as seed_offices
    from ratings.models import Rating
    from reports.demo import HISTORY_MARK, seed_history

    province = Province.objects.get(slug="danang")
    with tenant_context(province):
        seed_offices(province)
        seed_dossiers(province)
        assert seed_history(province, weeks=12) > 150
        assert seed_history(province, weeks=12) == 0  # once
        history = Dossier.objects.filter(events__internal_note=HISTORY_MARK).distinct()
        days = {d.date() for d in history.values_list("accepted_at", flat=True) if d is not None}
        assert len(days) >= 50  # about sixty working days
        assert set(history.values_list("channel", flat=True)) == {1, 2, 3}
        assert {"early", "on_time", "late"} <= set(history.values_list("grade", flat=True))
        assert {Status.RETURNED, Status.WITHDRAWN, Status.STOPPED} <= set(history.values_list("status", flat=True))
        assert history.filter(supplement_requests__received_at__isnull=False).exists()
        rated = Rating.objects.filter(dossier__in=history)
        assert rated.filter(score__gte=4).exists() and rated.filter(score__lte=2).exists()
        # ratings are dated when they were given (back-dated with the rest), not on the day of seeding
        first_day = min(days)
        assert rated.filter(first_given_at__date__lt=first_day + timedelta(weeks=6)).exists()
