"""The province dashboard (reports/dashboard.py) and the click-through filter (dossiers.admin.IndicatorFilter).

On Đà Nẵng as `seed_demo` leaves it (dossiers in every status, early/on time/late results): the page's
numbers are `figures(scope)`; the dossier list behind each number is exactly `dossiers_behind`; the
chart bars are the breakdown's numbers; who may not see it gets 403, another province's host shows
nothing of Đà Nẵng; every bad parameter is a clear answer, never a 500.
"""

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from conftest import otp_login
from dossiers.models import Dossier, Procedure
from offices.models import Department
from offices.tests.factories import UserFactory
from reports import charts, dashboard, indicators
from reports.indicators import LABELS, Figures, Row, Scope

pytestmark = pytest.mark.django_db

HOST = "danang.localhost"
URL = "/admin/reports/dashboard/"
CHANGELIST = "/admin/dossiers/dossier/"
NUMBER = re.compile(r'data-indicator="(\w+)" data-value="([^"]*)"')
SHOWN = r'data-indicator="{key}" data-value="{value}"[^>]*>{text}<'
SVG = re.compile(r"<svg [^>]*class=\"report-chart\".*?</svg>", re.S)


def parse(text):
    return ET.fromstring(text)  # noqa: S314 -- the portal's own markup, not untrusted input


@pytest.fixture
def demo(in_danang, danang):
    """Đà Nẵng's demo officers, catalogue and dossiers (as seed_demo makes them)."""
    from dossiers import demo as dossier_demo
    from offices import demo as office_demo

    office_demo.seed(danang)
    dossier_demo.seed(danang)
    return danang


def _login(username=None, user=None):
    client = Client()
    user = user or User.objects.get(username=username)
    otp_login(client, user, password=settings.DEMO_PASSWORD if username else None)
    return client


@pytest.fixture
def admin_client(demo):
    return _login("quantri")  # province admin: may see every dossier and the reports


def _period():
    today = timezone.localdate()
    return today - timedelta(days=90), today


def _get(client, path=URL, host=HOST, **params):
    return client.get(path, params, HTTP_HOST=host)


def _shown(html):
    """The first number shown for each indicator (the figures' section comes first)."""
    shown = {}
    for key, value in NUMBER.findall(html):
        shown.setdefault(key, value)
    return shown


def _scope_params(scope):
    return dashboard.scope_parameters(scope)


# --- the numbers --------------------------------------------------------------------------------------


def test_the_page_shows_the_figures_of_the_scope(admin_client, demo):
    start, end = _period()
    scope = Scope(start, end)
    response = _get(admin_client, **_scope_params(scope))
    assert response.status_code == 200, response.content.decode()[:3000]
    html = response.content.decode()
    expected = indicators.figures(scope)
    assert expected.received and expected.done, "the demo should have dossiers received and done"
    shown = _shown(html)
    for key, value in expected.counts().items():
        assert shown[key] == str(value), key
    assert shown["to_handle"] == str(expected.to_handle) and shown["done"] == str(expected.done)
    # Every count that is a number of dossiers links to them, with the indicator and the same scope.
    for key in LABELS:
        link = re.search(rf'<a href="([^"]+)" data-indicator="{key}"', html)
        assert link, key
        query = parse_qs(urlsplit(unescape(link.group(1))).query)
        assert query == {"indicator": [key], "from": [f"{start:%d/%m/%Y}"], "to": [f"{end:%d/%m/%Y}"]}


def test_the_page_with_a_department_shows_that_departments_figures(admin_client, demo):
    start, end = _period()
    ward = Department.objects.get(code="UBND-PHUONG")
    scope = Scope(start, end, department=ward.pk)
    response = _get(admin_client, **_scope_params(scope))
    assert response.status_code == 200
    shown = _shown(response.content.decode())
    for key, value in indicators.figures(scope).counts().items():
        assert shown[key] == str(value), key
    assert "cơ quan giải quyết: " in response.content.decode()


def test_the_default_is_this_month(admin_client, demo):
    response = _get(admin_client)
    assert response.status_code == 200
    start, end = dashboard.month_of(timezone.localdate())
    shown = _shown(response.content.decode())
    for key, value in indicators.figures(Scope(start, end)).counts().items():
        assert shown[key] == str(value), key
    assert f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}" in response.content.decode()


def test_presets(demo):
    today = date(2026, 2, 10)
    assert [(s, e) for _label, s, e in dashboard.presets(today)] == [
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 1, 1), date(2026, 12, 31)),
    ]
    assert dashboard.presets(date(2026, 1, 5))[1][1:] == (date(2025, 12, 1), date(2025, 12, 31))
    assert dashboard.presets(date(2026, 11, 30))[2][1:] == (date(2026, 10, 1), date(2026, 12, 31))


def test_numbers_are_formatted_the_vietnamese_way(admin_client, demo, monkeypatch):
    big = Figures(received=1234, received_counter=1000, done_early=700, done_on_time=0, done_late=100, avg_days=3.25,
                  p90_days=7, ratings=8, satisfied=7)  # fmt: skip
    monkeypatch.setattr(indicators, "figures", lambda scope: big)
    monkeypatch.setattr(indicators, "breakdown", lambda scope, by: [])
    html = _get(admin_client).content.decode()
    assert re.search(SHOWN.format(key="received", value="1234", text=r"1\.234"), html)
    assert re.search(SHOWN.format(key="received_counter", value="1000", text=r"1\.000"), html)
    assert re.search(SHOWN.format(key="on_time_share", value=r"0\.875", text="87,5 %"), html)
    assert re.search(SHOWN.format(key="satisfied_share", value=r"0\.875", text="87,5 %"), html)
    assert re.search(SHOWN.format(key="avg_days", value=r"3\.25", text="3,[23]"), html)


# --- the charts ---------------------------------------------------------------------------------------


def test_the_charts_are_well_formed_svg_whose_bars_are_the_breakdowns_numbers(admin_client, demo):
    start, end = _period()
    scope = Scope(start, end)
    html = _get(admin_client, **_scope_params(scope)).content.decode()
    svgs = {}
    for text in SVG.findall(html):
        svg = parse(text)
        svgs[svg.get("id")] = svg
        assert svg.find(f"{{{charts.SVG_NS}}}title").text
    assert set(svgs) == {"chart-weeks", "chart-departments", "chart-procedures"}

    def bars(svg):
        return {
            g.get("data-label"): {
                r.get("data-series"): r.get("data-value")
                for r in g.iter(f"{{{charts.SVG_NS}}}rect")
                if r.get("data-series")
            }
            for g in svg.iter(f"{{{charts.SVG_NS}}}g")
            if g.get("class") == "bar"
        }

    departments = indicators.breakdown(scope, "department")
    expected = {
        row.label: {k: str(getattr(row.figures, k)) for k, _pattern in dashboard.GRADES if getattr(row.figures, k)}
        for row in departments
        if row.figures.done
    }  # fmt: skip
    assert expected and bars(svgs["chart-departments"]) == expected

    procedures = dashboard.slowest(indicators.breakdown(scope, "procedure"))
    assert bars(svgs["chart-procedures"]) == {
        row.label: {"avg_days": str(round(row.figures.avg_days, 1))} for row in procedures
    }
    avgs = [row.figures.avg_days for row in procedures]
    assert avgs == sorted(avgs, reverse=True) and len(procedures) <= dashboard.SLOWEST

    weeks = indicators.breakdown(scope, "week")
    drawn = bars(svgs["chart-weeks"])
    assert len(drawn) == len(weeks)
    for row in weeks:
        share = row.figures.on_time_share
        label = f"Tuần từ {row.key:%d/%m}"
        assert drawn[label] == ({} if not share else {"on_time_share": str(round(share * 100, 1))})


# --- the click-through --------------------------------------------------------------------------------


def _listed(client, **params):
    response = _get(client, CHANGELIST, **params)
    assert response.status_code == 200, (params, response.status_code, response.get("Location"))
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def test_the_list_behind_each_number_is_exactly_the_dossiers_behind_it(admin_client, demo):
    start, end = _period()
    ward = Department.objects.get(code="UBND-PHUONG")
    point = Department.objects.get(code="TTHCC")
    procedure = Procedure.objects.get(code="1.004873")
    scopes = [
        Scope(start, end),
        Scope(start, end, department=ward.pk),
        Scope(start, end, point=point.pk, procedure=procedure.pk),
        Scope(end - timedelta(days=3), end),
    ]
    nonempty = 0
    for scope in scopes:
        for key in LABELS:
            expected = set(indicators.dossiers_behind(scope, key).values_list("pk", flat=True))
            assert _listed(admin_client, indicator=key, **_scope_params(scope)) == expected, (scope, key)
            nonempty += bool(expected)
    assert nonempty >= 8
    assert Dossier.objects.count() > 10


def test_the_dashboards_links_lead_to_lists_of_as_many_dossiers_as_the_number_says(admin_client, demo):
    start, end = _period()
    html = _get(admin_client, **_scope_params(Scope(start, end))).content.decode()
    links = re.findall(r'<a href="([^"]+)" data-indicator="(\w+)" data-value="(\d+)"', html)
    assert len(links) > 20  # the figures, the department table and the procedures
    for href, key, value in links:
        parts = urlsplit(unescape(href))
        assert parts.path == CHANGELIST
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert params["indicator"] == key
        assert len(_listed(admin_client, **params)) == int(value), (href, key)


@pytest.mark.parametrize(
    "params",
    [
        {"indicator": "nonsense"},
        {"indicator": "done_late", "from": "31/12/2026", "to": "01/12/2026"},
        {"indicator": "done_late", "from": "32/01/2026", "to": "31/01/2026"},
        {"indicator": "done_late", "from": "garbage"},
        {"indicator": "done_late", "department": "999999"},
        {"indicator": "done_late", "department": "abc"},
        {"indicator": "done_late", "procedure": "-1"},
        {"indicator": "done_late", "point": "1e9"},
        {"department": "1"},  # a scope without an indicator
        {"indicator": "avg_days"},  # not a count of dossiers
        {"indicator": "done_late", "from": "01/01/1900", "to": "02/01/1900"},
    ],
)
def test_bad_click_through_parameters_give_the_admins_error_page(admin_client, params):
    response = _get(admin_client, CHANGELIST, **params)
    assert response.status_code == 302 and response["Location"].endswith("?e=1"), (params, response.status_code)


def test_a_parameter_given_twice_is_refused(admin_client):
    response = admin_client.get(f"{CHANGELIST}?indicator=done_late&indicator=received", HTTP_HOST=HOST)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_the_reception_point_must_be_a_reception_point(admin_client):
    ward = Department.objects.get(code="UBND-PHUONG")
    response = _get(admin_client, CHANGELIST, indicator="received", point=ward.pk)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


# --- who may see it -----------------------------------------------------------------------------------


def test_a_specialist_without_the_permission_gets_403_and_no_link(demo):
    specialist = User.objects.get(username="chuyenvien")
    assert not specialist.has_perm(dashboard.PERMISSION)
    client = _login("chuyenvien")
    assert _get(client).status_code == 403
    assert URL not in _get(client, "/admin/").content.decode()


def test_a_staff_user_without_any_role_gets_403(demo):
    client = _login(user=UserFactory(username="khongquyen", is_staff=True))
    assert _get(client).status_code == 403


def test_the_anonymous_are_sent_to_the_login_page(demo):
    response = _get(Client())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("username", ["lanhdao", "quantri"])
def test_leaders_and_province_admins_see_it_and_its_link(demo, username):
    client = _login(username)
    assert User.objects.get(username=username).has_perm(dashboard.PERMISSION)
    assert _get(client).status_code == 200
    index = _get(client, "/admin/").content.decode()
    assert f'href="{URL}"' in index and "Bảng số liệu của tỉnh" in index


def test_a_leader_of_danang_cannot_see_ca_maus_figures_by_host(demo, camau):
    client = _login("lanhdao")
    assert _get(client).status_code == 200
    response = _get(client, host="camau.localhost")
    # Ca Mau's admin does not know Đà Nẵng's session: the login page, never Ca Mau's figures.
    assert response.status_code in (302, 403), response.status_code
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]
    listed = _get(client, CHANGELIST, host="camau.localhost", indicator="received")
    assert listed.status_code in (302, 403)


def test_each_province_sees_its_own_figures(demo, camau):
    """A Ca Mau superuser on Ca Mau's host sees Ca Mau's figures (none), not Đà Nẵng's."""
    start, end = _period()
    scope = Scope(start, end)
    danang_figures = indicators.figures(scope)
    assert danang_figures.received
    with tenant_context(camau):
        boss = UserFactory(username="sieu.camau", is_superuser=True)
        client = Client()
        otp_login(client, boss, host="camau.localhost")
        response = _get(client, host="camau.localhost", **_scope_params(scope))
        assert response.status_code == 200
        shown = _shown(response.content.decode())
        assert shown["received"] == str(indicators.figures(scope).received) == "0"


# --- bad input on the dashboard: a clear Vietnamese error, never a 500 ---------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "30/11/2026", "to": "01/11/2026"}, "“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”."),
        ({"from": "garbage", "to": "01/11/2026"}, "Ngày không hợp lệ"),
        ({"from": "2026-11-01", "to": "30/11/2026"}, "Ngày không hợp lệ"),
        ({"from": "01/11/2026"}, "Hãy nhập cả “Từ ngày” và “Đến ngày”."),
        ({"from": "01/01/2020", "to": "31/12/2026"}, "tối đa 366 ngày"),
        ({"from": "01/01/1800", "to": "02/01/1800"}, "Ngày phải trong khoảng"),
        ({"department": "999999"}, "Cơ quan giải quyết đã chọn không có trong danh sách."),
        ({"department": "abc"}, "Cơ quan giải quyết đã chọn không có trong danh sách."),
        ({"procedure": "0"}, "Thủ tục đã chọn không có trong danh sách."),
        ({"point": "999999"}, "Bộ phận tiếp nhận đã chọn không có trong danh sách."),
        ({"point": "\x00"}, "Không được chứa ký tự rỗng"),
    ],
)
def test_bad_input_gives_a_clear_vietnamese_error(admin_client, params, message):
    response = _get(admin_client, **params)
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(r'<ul class="errorlist nonfield" id="dashboard-errors">(.*?)</ul>', html, re.S)
    assert errors and message in unescape(errors.group(1)), html[:3000]
    assert "data-indicator" not in html  # no figures for a scope that was not understood


def test_a_reception_point_that_is_not_one_is_refused(admin_client):
    ward = Department.objects.get(code="UBND-PHUONG")
    response = _get(admin_client, point=ward.pk)
    assert response.status_code == 400


def test_the_scope_form_gives_the_scope(demo):
    ward = Department.objects.get(code="UBND-PHUONG")
    form = dashboard.ScopeForm({"from": "01/11/2026", "to": "30/11/2026", "department": str(ward.pk)})
    assert form.is_valid(), form.errors
    assert form.scope() == Scope(date(2026, 11, 1), date(2026, 11, 30), department=ward.pk)
    assert dashboard.ScopeForm({}, today=date(2026, 2, 10)).is_valid()
    assert dashboard.ScopeForm({}, today=date(2026, 2, 10)).scope if True else None
    form = dashboard.ScopeForm({}, today=date(2026, 2, 10))
    form.is_valid()
    assert form.scope() == Scope(date(2026, 2, 1), date(2026, 2, 28))


def test_the_url_of_a_breakdown_row_keeps_the_scope_and_adds_the_row(demo):
    scope = Scope(date(2026, 11, 1), date(2026, 11, 30), point=5)
    url = dashboard.dossiers_url("done_late", scope, department=3)
    assert url == reverse("admin:dossiers_dossier_changelist") + (
        "?indicator=done_late&from=01%2F11%2F2026&to=30%2F11%2F2026&point=5&department=3"
    )


def test_rows_are_built_from_the_breakdown(demo):
    rows = [
        Row(1, "Nhanh", Figures(done_on_time=2, avg_days=1.0)),
        Row(2, "Chậm", Figures(done_late=1, avg_days=9.5, p90_days=10)),
        Row(3, "Chưa xong", Figures(received=4)),
    ]
    assert [r.label for r in dashboard.slowest(rows)] == ["Chậm", "Nhanh"]


def test_a_leader_sees_the_dossiers_behind_a_number_that_they_may_see_and_is_told_so(demo):
    """The dashboard counts the province; the list behind a number never widens what a leader may see."""
    from dossiers.selectors import visible_dossiers

    leader = User.objects.get(username="lanhdao")
    assert not leader.has_perm("dossiers.view_all_dossiers")
    client = _login("lanhdao")
    start, end = _period()
    scope = Scope(start, end)
    for key in ("received", "done_early", "done_late", "in_progress_late", "paused"):
        behind = indicators.dossiers_behind(scope, key)
        expected = set(behind.filter(pk__in=visible_dossiers(leader).values("pk")).values_list("pk", flat=True))
        response = _get(client, CHANGELIST, indicator=key, **_scope_params(scope))
        assert response.status_code == 200
        assert set(response.context["cl"].queryset.values_list("pk", flat=True)) == expected, key
        assert "Danh sách chỉ gồm các hồ sơ ông/bà được xem" in response.content.decode()


def test_the_list_behind_a_number_names_the_number_and_its_scope_in_vietnamese(admin_client, demo):
    from egov.tests.test_no_english import english_in, read

    start, end = _period()
    ward = Department.objects.get(code="UBND-PHUONG")
    scope = Scope(start, end, department=ward.pk)
    response = _get(admin_client, CHANGELIST, indicator="done_late", **_scope_params(scope))
    html = response.content.decode()
    assert "Hồ sơ: Trễ hạn" in html  # the title
    assert f"Trễ hạn — Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}; cơ quan giải quyết: {ward}" in unescape(html)
    assert "Bỏ lọc theo số liệu" in html
    text, _links = read(html)
    assert not list(english_in(text))
