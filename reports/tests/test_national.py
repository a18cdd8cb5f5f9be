"""The national view: each province's figures computed in its own schema and shown side by side; a
province that fails is "unavailable", not a 500; only national superusers, only on the national domain."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from conftest import otp_login
from reports import indicators, national
from reports.indicators import Figures, Scope

pytestmark = pytest.mark.django_db

URL = "/admin/bao-cao/cac-tinh/"
NATIONAL = "localhost"
PASSWORD = "Mat-khau-quoc-gia-1"


def national_client(superuser=True):
    with schema_context(get_public_schema_name()):
        if superuser:
            user = User.objects.create_superuser("quocgia.baocao", "qg@example.com", PASSWORD)
        else:
            user = User.objects.create_user("nhanvien.quocgia", "nv@example.com", PASSWORD, is_staff=True)
        client = Client()
        otp_login(client, user, PASSWORD, host=NATIONAL)
    return client


def table_rows(page):
    """{province slug (or "" for the nation): [cell texts]} of the national table."""
    rows = {}
    for slug, body in re.findall(r'<tr[^>]*data-province="([^"]*)">(.*?)</tr>', page, re.S):
        rows[slug] = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
    return rows


def test_every_province_is_shown_with_its_own_figures(provinces):
    today = timezone.localdate()
    client = national_client()
    start = today - timedelta(days=60)
    params = {"period": "range", "start": f"{start:%d/%m/%Y}", "end": f"{today:%d/%m/%Y}"}
    response = client.get(URL, params, HTTP_HOST=NATIONAL)
    assert response.status_code == 200
    page = response.content.decode()
    rows = table_rows(page)
    scope = Scope(start=start, end=today)
    for province in national.provinces():
        with tenant_context(province):
            expected = indicators.figures(scope)
        assert rows[province.slug] == national.shown(province.name, province.slug, expected).cells, province.slug
        assert province.name in page
    assert f"Kỳ báo cáo: từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}" in page
    assert connection.schema_name == get_public_schema_name()


def test_a_province_whose_figures_fail_is_unavailable_and_the_others_are_still_shown(provinces):
    """A province row whose schema does not exist (a failed creation): a real failing query, in a savepoint."""
    from provinces.models import Province

    Province.objects.bulk_create([Province(name="Tỉnh Hỏng Dữ Liệu", slug="tinhhong", schema_name="tinhhong_khong_co")])
    client = national_client()
    response = client.get(URL, {"period": "year", "year": str(timezone.localdate().year)}, HTTP_HOST=NATIONAL)
    assert response.status_code == 200
    page = response.content.decode()
    rows = table_rows(page)
    assert rows["tinhhong"] == ["Không lấy được số liệu của tỉnh này"]
    assert len(rows["danang"]) == 7 and len(rows["camau"]) == 7  # after the failure too ("camau" < "tinhhong")
    assert "1 tỉnh không lấy được số liệu" in page


def test_the_nation_row_adds_up_the_available_provinces():
    a = Figures(received=10, done_early=3, done_on_time=5, done_late=2, in_progress_late=1, ratings=4, satisfied=3,
                messages_failed=2, avg_days=2.0, durations={1: 2, 2: 6, 3: 2})  # fmt: skip
    b = Figures(received=5, done_on_time=2, done_late=2, ratings=1, satisfied=1, avg_days=5.0, durations={5: 4})
    rows = [
        national.ProvinceFigures("A", a),
        national.ProvinceFigures("B", b),
        national.ProvinceFigures("C", None),
    ]
    out = national.total(rows)
    assert (out.received, out.done, out.in_progress_late, out.messages_failed) == (15, 14, 1, 2)
    assert out.on_time_share == 10 / 14
    assert out.satisfied_share == 4 / 5
    assert out.avg_days == pytest.approx((2.0 * 10 + 5.0 * 4) / 14)
    assert national.shown("Cả nước", "", out).cells == ["15", "14", "71,4%", "1", "2,9", "80,0%", "2"]
    assert national.shown("X", "x", Figures()).cells == ["0", "0", "—", "0", "—", "—", "0"]


def test_a_bad_period_is_a_400_in_vietnamese(provinces):
    client = national_client()
    response = client.get(URL, {"period": "range", "start": "01/13/2026", "end": "01/12/2026"}, HTTP_HOST=NATIONAL)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ngày không hợp lệ: hãy nhập theo dạng dd/mm/yyyy" in page
    assert 'id="national-table"' not in page


def test_the_national_index_links_the_view(provinces):
    client = national_client()
    page = client.get("/admin/", HTTP_HOST=NATIONAL).content.decode()
    assert f'href="{URL}"' in page


def test_a_national_staff_user_who_is_not_a_superuser_is_refused(provinces):
    client = national_client(superuser=False)
    assert client.get(URL, HTTP_HOST=NATIONAL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login(provinces):
    response = Client().get(URL, HTTP_HOST=NATIONAL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_national_view_is_not_reachable_from_a_province_domain(in_danang):
    """Not even for a province's superuser: the province site has no such page."""
    from offices.tests.factories import UserFactory

    superuser = UserFactory(username="sieuquantri.tinh", is_superuser=True)
    client = Client()
    otp_login(client, superuser)
    response = client.get(URL, HTTP_HOST="danang.localhost")
    assert response.status_code == 404
    assert "Không lấy được số liệu" not in response.content.decode()


def test_the_default_period_is_this_month_so_far(provinces):
    client = national_client()
    page = client.get(URL, HTTP_HOST=NATIONAL).content.decode()
    today = timezone.localdate()
    assert f"Kỳ báo cáo: từ {date(today.year, today.month, 1):%d/%m/%Y} đến {today:%d/%m/%Y}" in page


def test_a_merged_province_is_not_counted_twice(provinces):
    """After `merge_province` the old schema is kept, frozen, with the rows its target now holds too:
    the national view shows the target only, and rebuild_figures leaves the frozen schema alone."""
    from django.core.management import call_command

    merged, target = provinces["camau"], provinces["danang"]
    with schema_context(get_public_schema_name()):
        merged.merged_into = target
        merged.save(update_fields=["merged_into"])
    assert merged not in list(national.provinces()) and target in list(national.provinces())
    today = timezone.localdate()
    rows = table_rows(
        national_client().get(URL, {"period": "range", "start": f"{today:%d/%m/%Y}", "end": f"{today:%d/%m/%Y}"},
                              HTTP_HOST=NATIONAL).content.decode()
    )  # fmt: skip
    assert "camau" not in rows and "danang" in rows
    with pytest.raises(Exception, match="camau"):
        call_command("rebuild_figures", province=["camau"])
