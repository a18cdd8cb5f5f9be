"""The report of Đà Nẵng's demo dossiers (every status, early/on time/late, paused, withdrawn…) as the
leader downloads it: every row of the Excel file equals its `breakdown` row, the total equals
`figures(scope)` and the sum of the rows, and the printable page shows the same total."""

import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from conftest import otp_login
from reports import indicators
from reports.excel import FIRST_DATA_ROW, XLSX
from reports.indicators import Scope
from reports.report import COLUMNS, Line

URL = "/admin/bao-cao/dinh-ky/"
HOST = "danang.localhost"


@pytest.fixture
def seeded(in_danang, danang):
    from dossiers import demo as dossier_demo
    from offices import demo as office_demo

    office_demo.seed(danang)
    dossier_demo.seed(danang)
    return danang


@pytest.fixture
def leader_client(seeded):
    client = Client()
    otp_login(client, User.objects.get(username="lanhdao"), password=settings.DEMO_PASSWORD)
    return client


def values(figures):
    return Line("x", "", "", figures).values


def expected_rows(scope):
    """(level, label, values) of every row the report must have, straight from the indicators."""
    rows = []
    for department in indicators.breakdown(scope, "department"):
        rows.append(("department", department.label, values(department.figures)))
        for field in indicators.breakdown(replace(scope, department=department.key), "field"):
            if any(values(field.figures)):
                rows.append(("field", field.label, values(field.figures)))
    return rows


def test_the_excel_rows_and_total_equal_the_indicators_and_the_page_shows_the_same_total(leader_client):
    today = timezone.localdate()
    start = today - timedelta(days=90)
    params = {"period": "range", "start": f"{start:%d/%m/%Y}", "end": f"{today:%d/%m/%Y}"}
    scope = Scope(start=start, end=today)
    expected = expected_rows(scope)
    total = values(indicators.figures(scope))
    assert total[0] > 0 and sum(total) > 10, total  # the demo has work to report
    # The total is the sum of the departments, and each department the sum of its fields.
    departments = [v for level, _label, v in expected if level == "department"]
    assert total == [sum(column) for column in zip(*departments, strict=True)]
    fields_of, current = {}, None
    for level, label, v in expected:
        if level == "department":
            current = label
            fields_of[current] = []
        else:
            fields_of[current].append(v)
    for level, label, v in expected:
        if level == "department":
            assert v == [sum(column) for column in zip(*fields_of[label], strict=True)], label

    response = leader_client.get(URL, {**params, "format": "xlsx"}, HTTP_HOST=HOST)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert f'filename="bao-cao-tthc_danang_{start:%Y%m%d}-{today:%Y%m%d}.xlsx"' in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    width = 2 + len(COLUMNS)
    got = []
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_col=width, values_only=True):
        if row[1] is None:
            break
        got.append(row)
    assert [r[1] for r in got[:-1]] == [label for _level, label, _v in expected]
    assert [list(r[2:]) for r in got[:-1]] == [v for _level, _label, v in expected]
    assert got[-1][1] == "TỔNG CỘNG" and list(got[-1][2:]) == total
    assert "Ủy ban nhân dân Phường Hải Châu" in [r[1] for r in got]  # Vietnamese names intact
    assert ws.cell(row=5, column=1).value == f"Kỳ báo cáo: từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}"

    page = leader_client.get(URL, params, HTTP_HOST=HOST)
    assert page.status_code == 200
    html = page.content.decode()
    total_row = re.search(r'<tr class="total" id="report-total">(.*?)</tr>', html, re.S).group(1)
    shown = [int(v.replace(".", "")) for v in re.findall(r'<td class="n">([\d.]+)</td>', total_row)]
    assert shown == total
    assert "UBND THÀNH PHỐ ĐÀ NẴNG" in html
    assert f"Kỳ báo cáo: từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}" in html
    excel_link = re.search(r'id="excel-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert excel_link.endswith("&format=xlsx") and f"start={start:%d}%2F" in excel_link
    again = leader_client.get(excel_link, HTTP_HOST=HOST)
    assert again.status_code == 200 and again["Content-Type"] == XLSX


def test_each_kind_of_period_downloads(leader_client):
    today = timezone.localdate()
    for params in (
        {"period": "month", "month": str(today.month), "year": str(today.year)},
        {"period": "quarter", "quarter": str((today.month - 1) // 3 + 1), "year": str(today.year)},
        {"period": "year", "year": str(today.year)},
    ):
        response = leader_client.get(URL, {**params, "format": "xlsx"}, HTTP_HOST=HOST)
        assert response.status_code == 200, params
        assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
