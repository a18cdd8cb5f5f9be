"""The province dashboard in a real browser (Debian's Chromium through Playwright) against a real server.

A leader of a throwaway copy of Đà Nẵng (its demo officers, catalogue and dossiers, as `seed_demo`
makes them; schema "dashdanang", dropped afterwards) logs in through the login page and its second
factor, opens the dashboard from the admin's index, chooses a period in the form, and reads the
figures: each number shown is `figures(scope)`, written the Vietnamese way. A number clicks through to
a dossier list of as many rows. A screenshot goes to the test's tmp dir, a copy to
docs/screenshots/dashboard.png.
"""

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from provinces.services import ProvinceSpec, create_province
from testing.browser import admin_login, browser_page
from testing.live import answers, drop_province, free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
SLUG = "dashdanang"
SPEC = ProvinceSpec("Thành phố Đà Nẵng (thử bảng số liệu)", SLUG, f"{SLUG}.localhost", "000.00.01.H97", None)
SCREENSHOT_COPY = ROOT / "docs" / "screenshots" / "dashboard.png"


WARD_POINT = "MC-20194"


def _a_ward_point_with_a_dossier():
    """Issue 15: a ward's one-stop shop that received one dossier at its own counter (its agency code)."""
    from dossiers import services
    from dossiers.models import Procedure
    from offices.models import Department, PointKind
    from offices.services import ensure_officer

    point = Department.objects.create(
        code=WARD_POINT,
        name="Bộ phận một cửa Phường Hải Châu",
        is_reception=True,
        point_kind=PointKind.WARD,
        ward_code="20194",
        agency_code="000.01.06.H97",
        address="Trụ sở UBND Phường Hải Châu",
    )
    desk, _created = ensure_officer(
        username="motcua.haichau", full_name="Đoàn Thị Hải", role="reception", department=point
    )
    procedure = Procedure.objects.filter(reception_points=None).order_by("code").first()
    components = [services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()]
    services.receive_dossier(
        officer=desk,
        procedure=procedure,
        applicant=services.Applicant(name="Phan Văn Tới", id_number="048090001234", phone="0912000111"),
        components=components,
    )


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    from dossiers import demo as dossier_demo
    from offices import demo as office_demo

    with django_db_blocker.unblock():
        drop_province(SLUG)  # left behind by an aborted run (with --reuse-db)
        province, _created = create_province(SPEC)
        with tenant_context(province):
            office_demo.seed(province)
            dossier_demo.seed(province)
            _a_ward_point_with_a_dossier()
        connection.set_schema_to_public()
    try:
        yield province
    finally:
        with django_db_blocker.unblock():
            drop_province(SLUG)


@pytest.fixture(scope="module")
def live_url(province, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DEBUG": "1",  # runserver serves the admin's static files
        "SITE_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("dashboard-server") / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: answers(port) or process.poll() is not None, 60, "the portal server")
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield f"http://{SLUG}.localhost:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_leader_reads_the_dashboard_and_its_numbers_are_the_figures(live_url, province, tmp_path):
    from django.contrib.auth.models import User
    from playwright.sync_api import expect

    from dossiers.selectors import visible_dossiers
    from reports import charts, indicators
    from reports.indicators import Scope

    today = timezone.localdate()
    start, end = today - timedelta(days=60), today
    scope = Scope(start, end)
    with tenant_context(province):
        figures = indicators.figures(scope)
        leader = User.objects.get(username="lanhdao")
        # The list behind a number shows what the leader may see (their department's dossiers) of it.
        visible = indicators.dossiers_behind(scope, "received").filter(pk__in=visible_dossiers(leader).values("pk"))
        visible_received = visible.count()
    connection.set_schema_to_public()
    code = authenticator_code(province, "lanhdao")
    with browser_page() as page:
        admin_login(page, live_url, "lanhdao", settings.DEMO_PASSWORD, code)

        # From the index, as a leader finds it.
        page.locator("#content-main").get_by_role("link", name="Bảng số liệu của tỉnh").first.click()
        expect(page.locator("h1")).to_have_text("Bảng số liệu của tỉnh")
        form = page.locator("#dashboard-form")
        form.locator("[name=from]").fill(f"{start:%d/%m/%Y}")
        form.locator("[name=to]").fill(f"{end:%d/%m/%Y}")
        form.get_by_role("button", name="Xem số liệu").click()
        expect(page.locator("#dashboard-scope")).to_contain_text(f"Từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}")
        expect(page.locator("svg#chart-departments")).to_be_visible()

        shown = page.eval_on_selector_all(
            ".figures [data-indicator]",
            "els => els.map(e => [e.dataset.indicator, e.dataset.value, e.textContent.trim()])",
        )
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
        SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "dashboard.png", SCREENSHOT_COPY)

        # A number clicks through to a list of as many dossiers.
        page.locator('.figures a[data-indicator="received"]').click()
        expect(page.locator("h1")).to_contain_text("Tiếp nhận mới")
        expect(page.locator("#result_list tbody tr")).to_have_count(visible_received)
        page.screenshot(path=tmp_path / "dashboard-received.png", full_page=True)

    counts = figures.counts()
    assert counts["received"] and figures.done, "the demo's period should have dossiers received and done"
    by_key = {key: (value, text) for key, value, text in shown}
    for key, value in counts.items():
        assert by_key[key] == (str(value), charts.integer(value)), key
    assert by_key["on_time_share"][1] == charts.percent(figures.on_time_share)
    assert by_key["avg_days"][1] == charts.decimal(figures.avg_days)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


def test_the_dashboard_filtered_by_a_ward_point_shows_that_points_figures(live_url, province, tmp_path):
    """Issue 15: the dashboard per reception point. A ward point receives a dossier at its own counter;
    the province admin chooses the point in the form and reads that point's figures, not the province's."""
    from playwright.sync_api import expect

    from dossiers.models import Dossier
    from offices.models import Department
    from reports import charts, indicators
    from reports.indicators import Scope

    today = timezone.localdate()
    start, end = today - timedelta(days=60), today
    with tenant_context(province):
        point = Department.objects.get(code=WARD_POINT)
        dossier = Dossier.objects.get(reception_point=point)
        assert dossier.code.startswith("000.01.06.H97-")
        at_point = indicators.figures(Scope(start, end, point=point.pk))
        whole = indicators.figures(Scope(start, end))
        point_label, point_pk = str(point), point.pk
    connection.set_schema_to_public()
    assert at_point.received == 1 and whole.received > at_point.received
    code = authenticator_code(province, "quantri")
    with browser_page() as page:
        admin_login(page, live_url, "quantri", settings.DEMO_PASSWORD, code)
        page.goto(f"{live_url}/admin/reports/dashboard/")
        form = page.locator("#dashboard-form")
        form.locator("[name=from]").fill(f"{start:%d/%m/%Y}")
        form.locator("[name=to]").fill(f"{end:%d/%m/%Y}")
        form.locator("[name=point]").select_option(value=str(point_pk))
        form.get_by_role("button", name="Xem số liệu").click()
        expect(page.locator("#dashboard-scope")).to_contain_text(f"tiếp nhận tại {point_label}")
        shown = page.eval_on_selector_all(
            ".figures [data-indicator]",
            "els => els.map(e => [e.dataset.indicator, e.dataset.value, e.textContent.trim()])",
        )
        page.screenshot(path=tmp_path / "dashboard-point.png", full_page=True)
        shutil.copyfile(tmp_path / "dashboard-point.png", SCREENSHOT_COPY.with_name("dashboard-point.png"))
        # The number clicks through to the one dossier received there.
        page.locator('.figures a[data-indicator="received"]').click()
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        expect(page.locator("#result_list")).to_contain_text(dossier.code)

    by_key = {key: (value, text) for key, value, text in shown}
    for key, value in at_point.counts().items():
        assert by_key[key] == (str(value), charts.integer(value)), key
