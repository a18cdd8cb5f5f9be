"""The periodic report's page in the province admin: the period a leader chooses (and every bad input
refused in Vietnamese), and who may see it (attacks: a specialist, an anonymous visitor, an officer of
another province carrying his session cookie to this province's host, a forged output format)."""

from datetime import date

import pytest
from django.test import Client

from conftest import otp_login
from offices.tests.factories import OfficerFactory
from reports.report import MAX_DAYS, PeriodForm

URL = "/admin/bao-cao/dinh-ky/"
DANANG, CAMAU = "danang.localhost", "camau.localhost"
TODAY = date(2026, 12, 3)


def dates(**data):
    form = PeriodForm(data, today=TODAY)
    assert form.is_valid(), form.errors
    return form.dates()


def errors(**data):
    form = PeriodForm(data, today=TODAY)
    assert not form.is_valid()
    return " ".join(str(e) for field_errors in form.errors.values() for e in field_errors)


# --- the period -------------------------------------------------------------------------------------


def test_a_month_a_quarter_a_year_or_any_days():
    assert dates(period="month", month="2", year="2024") == (date(2024, 2, 1), date(2024, 2, 29))  # leap year
    assert dates(period="month", month="2", year="2025") == (date(2025, 2, 1), date(2025, 2, 28))
    assert dates(period="month", month="12", year="2026") == (date(2026, 12, 1), date(2026, 12, 31))
    assert dates(period="quarter", quarter="1", year="2026") == (date(2026, 1, 1), date(2026, 3, 31))
    assert dates(period="quarter", quarter="4", year="2025") == (date(2025, 10, 1), date(2025, 12, 31))
    assert dates(period="year", year="2025") == (date(2025, 1, 1), date(2025, 12, 31))
    assert dates(period="range", start="15/11/2026", end="15/11/2026") == (date(2026, 11, 15), date(2026, 11, 15))
    # The fields of the other kinds are ignored, not validated against.
    assert dates(period="year", year="2026", start="rác", month="99") == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Hãy chọn kỳ báo cáo."),
        ({"period": "week", "year": "2026"}, "Kỳ báo cáo phải là tháng, quý, năm hoặc một khoảng ngày."),
        ({"period": "month", "month": "13", "year": "2026"}, "Tháng phải từ 1 đến 12."),
        ({"period": "month", "year": "2026"}, "Hãy chọn tháng."),
        ({"period": "quarter", "quarter": "5", "year": "2026"}, "Quý phải từ I đến IV."),
        ({"period": "quarter", "year": "2026"}, "Hãy chọn quý."),
        ({"period": "year", "year": "hai nghìn"}, "Năm phải là một số, ví dụ 2026."),
        ({"period": "year"}, "Hãy nhập năm."),
        ({"period": "year", "year": "1999"}, "Năm phải trong khoảng 2000 – 2099."),
        ({"period": "year", "year": "-5"}, "Năm phải trong khoảng 2000 – 2099."),
        ({"period": "month", "month": "1", "year": "2027"}, "Kỳ báo cáo chưa bắt đầu"),
        ({"period": "range", "start": "31/02/2026", "end": "01/03/2026"}, "Ngày không hợp lệ"),
        ({"period": "range", "start": "2026-11-01", "end": "30/11/2026"}, "dd/mm/yyyy"),
        ({"period": "range", "end": "30/11/2026"}, "Hãy nhập “Từ ngày”."),
        ({"period": "range", "start": "01/11/2026"}, "Hãy nhập “Đến ngày”."),
        ({"period": "range", "start": "30/11/2026", "end": "01/11/2026"}, "“Đến ngày” phải cùng ngày hoặc sau"),
        ({"period": "range", "start": "01/01/2010", "end": "30/11/2026"}, f"tối đa {MAX_DAYS} ngày"),
        ({"period": "range", "start": "01/01/1990", "end": "02/01/1990"}, "Ngày phải trong khoảng"),
        ({"period": "range", "start": "04/12/2026", "end": "05/12/2026"}, "Kỳ báo cáo chưa bắt đầu"),
    ],
)
def test_bad_periods_are_refused_in_vietnamese(data, message):
    assert message in errors(**data)


def test_the_current_month_may_be_reported_before_it_ends():
    assert dates(period="month", month="12", year="2026") == (date(2026, 12, 1), date(2026, 12, 31))
    assert dates(period="range", start="03/12/2026", end="03/12/2026") == (TODAY, TODAY)


# --- the page: who may see it ------------------------------------------------------------------------


@pytest.fixture
def leader_client(leader):
    client = Client()
    otp_login(client, leader.user)
    return client


def test_a_bad_period_on_the_page_is_a_400_with_the_vietnamese_error_and_no_report(leader_client):
    response = leader_client.get(URL, {"period": "range", "start": "30/11/2026", "end": "01/11/2026"}, HTTP_HOST=DANANG)
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Đến ngày” phải cùng ngày hoặc sau “Từ ngày”." in page
    assert 'id="report-table"' not in page and 'id="excel-link"' not in page
    # The same bad period asked as an Excel file: the page with the error, not a file.
    response = leader_client.get(
        URL, {"period": "month", "month": "13", "year": "2026", "format": "xlsx"}, HTTP_HOST=DANANG
    )
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "Tháng phải từ 1 đến 12." in response.content.decode()


def test_an_unknown_output_format_is_refused(leader_client):
    response = leader_client.get(URL, {"period": "year", "year": "2026", "format": "pdf"}, HTTP_HOST=DANANG)
    assert response.status_code == 400
    assert "Chỉ có thể xem để in hoặc tải về tệp Excel." in response.content.decode()


def test_a_specialist_without_the_permission_gets_403_page_and_file(specialist):
    assert not specialist.user.has_perm("reports.view_reports")
    client = Client()
    otp_login(client, specialist.user)
    assert client.get(URL, HTTP_HOST=DANANG).status_code == 403
    response = client.get(URL, {"period": "year", "year": "2026", "format": "xlsx"}, HTTP_HOST=DANANG)
    assert response.status_code == 403


def test_a_reception_officer_gets_403(reception):
    client = Client()
    otp_login(client, reception.user)
    assert client.get(URL, HTTP_HOST=DANANG).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login(in_danang):
    response = Client().get(URL, {"period": "year", "year": "2026", "format": "xlsx"}, HTTP_HOST=DANANG)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_leader_has_the_permission_and_sees_the_page(leader, leader_client):
    assert leader.user.has_perm("reports.view_reports")
    response = leader_client.get(URL, HTTP_HOST=DANANG)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="report-table"' in page and "Tình hình, kết quả giải quyết thủ tục hành chính" in page
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]


def test_a_province_admin_has_the_permission(in_danang):
    admin = OfficerFactory(role="province_admin", user__username="quantri.test")
    client = Client()
    otp_login(client, admin.user)
    assert client.get(URL, HTTP_HOST=DANANG).status_code == 200


def test_an_officer_of_one_province_cannot_get_anothers_report_with_his_session(leader_client, camau):
    """Đà Nẵng's leader, logged in, asks Cà Mau's host with his session cookie: Cà Mau has no such
    session (sessions live in each province's schema), so it is the login page, never the report."""
    assert leader_client.get(URL, HTTP_HOST=DANANG).status_code == 200
    for params in ({}, {"period": "year", "year": "2026", "format": "xlsx"}):
        response = leader_client.get(URL, params, HTTP_HOST=CAMAU)
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith("/admin/login/")


def test_the_report_is_not_on_the_national_domain(leader_client):
    """The national site has no such page: its catch-all sends the (anonymous there) visitor to log in."""
    response = leader_client.get(URL, HTTP_HOST="localhost")
    assert response.status_code in (302, 404)
    assert response.status_code == 404 or response["Location"].startswith("/admin/login/")


def test_the_index_links_the_report_for_those_who_may_open_it(leader_client, specialist):
    assert f'href="{URL}"' in leader_client.get("/admin/", HTTP_HOST=DANANG).content.decode()
    client = Client()
    otp_login(client, specialist.user)
    assert f'href="{URL}"' not in client.get("/admin/", HTTP_HOST=DANANG).content.decode()
