"""The national admin's lists at a thousand provinces: no query per row, search without diacritics on an index."""

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import otp_login
from offices.tests.factories import PASSWORD
from provinces.models import Domain, Province

pytestmark = pytest.mark.django_db
HOST = {"HTTP_HOST": "localhost"}
PROVINCES = "/admin/provinces/province/"


@pytest.fixture
def national(danang, camau):
    user = User.objects.create_superuser("quocgia.list", password=PASSWORD)
    client = Client()
    otp_login(client, user, host="localhost")
    return client


def add_provinces(first, count):
    """Province rows with their primary domain, without creating their schemas (the list reads only public)."""
    for n in range(first, first + count):
        province = Province(
            schema_name=f"thu{n:04d}",
            name=f"Tỉnh Thử Nghiệm Số {n:04d}",
            slug=f"thu{n:04d}",
            agency_code=f"000.00.{n % 100:02d}.H{n % 100:02d}",
        )
        province.auto_create_schema = False
        province.save(verbosity=0)
        Domain.objects.create(domain=f"thu{n:04d}.localhost", tenant=province, is_primary=True)


def queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {}, **HOST)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode(), captured.captured_queries


def test_the_province_list_costs_the_same_queries_for_3_or_30_provinces(national):
    add_provinces(0, 3)
    few, html, _ = queries(national, PROVINCES)
    assert "thu0002.localhost" in html and "danang.localhost" in html
    add_provinces(3, 27)
    many, html, _ = queries(national, PROVINCES)
    assert all(f"thu{n:04d}.localhost" in html for n in range(30))  # each row's primary domain, shown
    assert many == few
    # Searched, and sorted by the domain column: still the same.
    assert queries(national, PROVINCES, {"q": "thu nghiem"})[0] == few
    assert queries(national, PROVINCES, {"o": "5"})[0] == few


def test_the_user_and_group_lists_cost_the_same_queries_for_3_or_30_rows(national):
    def add(first, count):
        for n in range(first, first + count):
            user = User.objects.create_user(f"canbo{n:03d}", first_name="Văn", last_name="Nguyễn", is_staff=True)
            group = Group.objects.create(name=f"Nhóm {n:03d}")
            user.groups.add(group)

    add(0, 3)
    few_users, few_groups = queries(national, "/admin/auth/user/")[0], queries(national, "/admin/auth/group/")[0]
    add(3, 27)
    assert queries(national, "/admin/auth/user/")[0] == few_users
    assert queries(national, "/admin/auth/group/")[0] == few_groups


@pytest.mark.parametrize(
    "term, slugs",
    [
        ("da nang", {"danang"}),
        ("Đà Nẵng", {"danang"}),
        ("THANH PHO DA NANG", {"danang"}),
        ("nang da", {"danang"}),  # every word, in any order
        ("cà mau", {"camau"}),
        ("000.00.01.h15", {"danang"}),  # the agency code, any case
        ("thử nghiệm 0001", {"thu0001"}),
        ("thu nghiem", {"thu0000", "thu0001", "thu0002"}),
        ("ha noi", set()),
    ],
)
def test_the_province_search_ignores_diacritics_and_case(national, term, slugs):
    add_provinces(0, 3)
    html = national.get(PROVINCES, {"q": term}, **HOST).content.decode()
    shown = {p.slug for p in Province.objects.exclude(schema_name="public") if f"{p.slug}.localhost" in html}
    assert shown == slugs


def test_the_province_search_is_answered_by_the_trigram_index(national):
    add_provinces(0, 3)
    _, _, captured = queries(national, PROVINCES, {"q": "da nang"})
    search = next(q["sql"] for q in captured if "search_text" in q["sql"] and "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + search)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
        cursor.execute("RESET enable_indexscan")
    assert "Bitmap Index Scan on province_search_trgm" in plan, plan


def test_a_province_created_or_renamed_is_found_by_its_new_name(national):
    add_provinces(0, 1)
    province = Province.objects.get(slug="thu0000")
    province.name = "Tỉnh Hà Giang"
    province.save(update_fields=["name"])
    html = national.get(PROVINCES, {"q": "ha giang"}, **HOST).content.decode()
    assert "thu0000.localhost" in html
