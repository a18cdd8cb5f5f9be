"""The periodic report in a real browser (Debian's Chromium through Playwright) against a real server.

A leader of a throwaway copy of Đà Nẵng (the demo's officers, catalogue and dossiers; schema
"bcdanang", dropped afterwards) logs in, opens the report from the admin's index, chooses a period,
prints it (Chromium's print to PDF: one A4 landscape sheet per page, the admin's chrome left out) and
downloads the Excel file. The printed total and the file's total are `figures(scope)`.
"""

import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from conftest import authenticator_code
from provinces.services import ProvinceSpec
from reports.tests.test_national_browser import ROOT, portal
from testing.browser import admin_login, browser_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SLUG = "bcdanang"
SPEC = ProvinceSpec("Thành phố Đà Nẵng (thử báo cáo)", SLUG, f"{SLUG}.localhost", "000.00.01.H93", None)
SCREENSHOT_COPY = ROOT / "docs" / "screenshots" / "report.png"


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    from dossiers import demo as dossier_demo
    from offices import demo as office_demo
    from provinces.services import create_province
    from testing.live import drop_province

    with django_db_blocker.unblock():
        drop_province(SLUG)
        province, _created = create_province(SPEC)
        with tenant_context(province):
            office_demo.seed(province)
            dossier_demo.seed(province)
        connection.set_schema_to_public()
    try:
        yield province
    finally:
        with django_db_blocker.unblock():
            drop_province(SLUG)


@pytest.fixture(scope="module")
def live_url(province, django_db_blocker, tmp_path_factory):
    with portal(django_db_blocker, tmp_path_factory.mktemp("report-server")) as port:
        yield f"http://{SLUG}.localhost:{port}"


def test_a_leader_prints_the_report_and_downloads_it_with_the_same_total(live_url, province, tmp_path):
    from playwright.sync_api import expect

    from reports import indicators
    from reports.indicators import Scope
    from reports.report import Line

    today = timezone.localdate()
    start = today - timedelta(days=90)
    code = authenticator_code(province, "lanhdao")
    with browser_page() as page:
        admin_login(page, live_url, "lanhdao", settings.DEMO_PASSWORD, code)

        title = "Báo cáo tình hình giải quyết thủ tục hành chính"
        page.locator("#content-main").get_by_role("link", name=title).first.click()
        form = page.locator("#report-form")
        form.locator("[name=period]").select_option("range")
        form.locator("[name=start]").fill(f"{start:%d/%m/%Y}")
        form.locator("[name=end]").fill(f"{today:%d/%m/%Y}")
        form.get_by_role("button", name="Xem báo cáo").click()
        expect(page.locator("#report-period")).to_have_text(f"Kỳ báo cáo: từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}")
        shown_total = page.eval_on_selector_all("#report-total td.n", "cells => cells.map(c => c.textContent.trim())")
        page.screenshot(path=tmp_path / "report.png", full_page=True)
        SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "report.png", SCREENSHOT_COPY)

        # Printed: the page's own @page (A4 landscape), without the admin's header and form.
        page.emulate_media(media="print")
        expect(page.locator("#report-form")).to_be_hidden()
        expect(page.locator("#header")).to_be_hidden()
        page.pdf(path=tmp_path / "report.pdf", prefer_css_page_size=True, print_background=False)
        page.emulate_media(media="screen")

        with page.expect_download() as download_info:
            page.locator("#excel-link").click()
        download = download_info.value
        suggested = download.suggested_filename
        download.save_as(tmp_path / suggested)

    scope = Scope(start=start, end=today)
    with tenant_context(province):
        total = Line("total", "", "", indicators.figures(scope)).values
    connection.set_schema_to_public()
    assert total[0] > 0
    assert [int(v.replace(".", "")) for v in shown_total] == total

    assert suggested == f"bao-cao-tthc_{SLUG}_{start:%Y%m%d}-{today:%Y%m%d}.xlsx"
    ws = load_workbook(io.BytesIO((tmp_path / suggested).read_bytes())).active
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=2).value == "TỔNG CỘNG")
    assert [ws.cell(row=last, column=c).value for c in range(3, 3 + len(total))] == total

    pdf = tmp_path / "report.pdf"
    assert pdf.stat().st_size > 5_000
    if shutil.which("pdfinfo") and shutil.which("pdftotext"):
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        size = next(line for line in info.splitlines() if line.startswith("Page size:"))
        width, height = (float(x) for x in size.split()[2:5:2])
        assert (round(width), round(height)) == (842, 595), size  # A4 landscape, in points
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        assert "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text
        assert "NGƯỜI LẬP BIỂU" in text and "THỦ TRƯỞNG ĐƠN VỊ" in text
        assert "Xem báo cáo" not in text and "Một Cửa —" not in text  # the form and the admin header are not printed
