"""End to end, in a real browser: a one-stop-shop officer takes in a dossier and moves it along.

The app runs as a real `runserver` process against the test database, on a throwaway province
(schema "trinhduyet") seeded with the demo departments, officers and the real procedure catalogue.
Everything the browser does is committed, so the province is dropped with its schema afterwards:
nothing leaks into the provinces other tests use, and the append-only timeline is never deleted row
by row. Screenshots of every step land in test-output/browser/.
"""

import http.client
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from provinces.services import ProvinceSpec, create_province
from testing.live import free_port

# django_db: pytest-django sets up the test database only for sessions with database tests. The
# test body runs in a transaction that is rolled back; what the server commits is visible to it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "browser"
SLUG = "trinhduyet"
HOST = f"{SLUG}.localhost"
PROVINCE = ProvinceSpec("Tỉnh Thử Trình Duyệt", SLUG, HOST, "000.00.01.H98", None)
PROCEDURE_CODE = "1.004873"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--no-proxy-server",
]
WAIT_MS = 15_000  # every browser wait: navigation, clicks, assertions
SERVER_START_SECONDS = 30


# --- the throwaway province ----------------------------------------------------------------


def _drop_province():
    """Remove the province, its schema and its domain; safe when any of them is already gone."""
    from provinces.models import Domain, Province

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SLUG}" CASCADE')
    Domain.objects.filter(tenant__slug=SLUG).delete()
    Domain.objects.filter(domain=HOST).delete()
    Province.objects.filter(slug=SLUG).delete()


@pytest.fixture(scope="module")
def trial_province(django_db_setup, django_db_blocker):
    """A committed province of its own: demo departments and officers, the real catalogue."""
    from dossiers.demo import seed_catalogue
    from offices.demo import seed

    with django_db_blocker.unblock():
        _drop_province()  # left behind by an aborted run (with --reuse-db)
        province, _created = create_province(PROVINCE)
        with tenant_context(province):
            seed(province)
            seed_catalogue()
        connection.set_schema_to_public()
    try:
        yield province
    finally:
        with django_db_blocker.unblock():
            _drop_province()


@pytest.fixture(scope="module")
def catalogue(trial_province, django_db_blocker):
    """The database ids the officer picks on screen (the option values of the selects)."""
    from dossiers.models import Procedure
    from offices.models import Department, Officer

    with django_db_blocker.unblock(), tenant_context(trial_province):
        procedure = Procedure.objects.get(code=PROCEDURE_CODE)
        component = procedure.components.order_by("position").first()
        ids = {
            "procedure": procedure.pk,
            "component": component.pk,
            "component_name": component.name,
            "ward": Department.objects.get(code="UBND-PHUONG").pk,
            "specialist": Officer.objects.get(user__username="chuyenvien").pk,
        }
    connection.set_schema_to_public()
    return ids


# --- the app as a real server --------------------------------------------------------------


def _answers(port):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/admin/login/", headers={"Host": f"{HOST}:{port}"})
        return conn.getresponse().status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def live_url(trial_province, django_db_blocker):
    """`manage.py runserver` on a free port, against the test database; stopped at teardown."""
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{db_name}",
        "DJANGO_SETTINGS_MODULE": "egov.settings",
        "DEBUG": "1",  # runserver serves the admin's static files
        "SITE_PORT": str(port),  # the receipt's lookup link points at this server
        "PYTHONUNBUFFERED": "1",
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_path = SCREENSHOTS / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"runserver did not answer within {SERVER_START_SECONDS} s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def chromium_page(viewport=None, **context_options):
    """A desktop-sized page in Debian's Chromium; Playwright is stopped when the block ends.

    The database is checked only after the block: Django refuses queries while Playwright's
    event loop runs in this thread.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=viewport or {"width": 1280, "height": 900}, locale="vi-VN", **context_options
            )
            context.set_default_timeout(WAIT_MS)
            yield context.new_page()
        finally:
            browser.close()


def shot(page, name):
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


# --- the specification ---------------------------------------------------------------------


def test_reception_officer_receives_prints_hands_over_and_requests_a_supplement(live_url, catalogue, trial_province):
    from playwright.sync_api import expect

    with chromium_page() as page:
        # The reception officer logs in to the province's admin.
        page.goto(f"{live_url}/admin/login/")
        shot(page, "01-login")
        page.fill("#id_username", "motcua")
        page.fill("#id_password", settings.DEMO_PASSWORD)
        # The second factor: what motcua's authenticator shows now (seed_demo gives each demo account one).
        page.fill("#id_otp_token", authenticator_code(trial_province, "motcua"))
        page.click("input[type=submit]")
        expect(page).to_have_url(f"{live_url}/admin/")

        # Step 1 of the intake: choose the procedure.
        page.goto(f"{live_url}/admin/dossiers/dossier/add/")
        expect(page.locator("h1")).to_contain_text("Tiếp nhận hồ sơ")
        page.locator("#procedure-chooser select[name=procedure]").select_option(str(catalogue["procedure"]))
        page.locator("#procedure-chooser input[type=submit]").click()

        # Step 2: the applicant; the required papers are already counted in.
        intake = page.locator("#intake-form")
        expect(intake).to_be_visible()
        expect(intake.locator(f"[name=count_{catalogue['component']}]")).not_to_have_value("")
        intake.locator("[name=applicant_name]").fill("Nguyễn Văn Trình")
        intake.locator("[name=applicant_id_number]").fill("048090001111")
        intake.locator("[name=applicant_phone]").fill("0905 111 222")
        shot(page, "02-intake-form")
        intake.locator("input[name=receive]").click()

        # The dossier is received: its code and the appointment date are announced.
        success = page.locator("ul.messagelist li.success")
        expect(success).to_contain_text("hẹn trả ngày")
        match = re.search(r"hồ sơ (\S+), hẹn trả ngày (\d{2}/\d{2}/\d{4})", success.inner_text())
        assert match, success.inner_text()
        code, appointment = match.groups()
        assert code.startswith("000.00.01.H98-")
        expect(page.locator(".field-status .readonly")).to_have_text("Được tiếp nhận")
        shot(page, "03-received")

        # The receipt (form 01) opens in a new tab, with the dossier code and the lookup QR code.
        with page.context.expect_page() as new_tab:
            page.locator("a[data-print=receipt]").click()
        receipt = new_tab.value
        receipt.wait_for_load_state()
        expect(receipt.locator("body")).to_contain_text(code)
        expect(receipt.locator("body")).to_contain_text(appointment)
        expect(receipt.locator("body")).to_contain_text("Nguyễn Văn Trình")
        qr = receipt.locator("img[src^='data:image/png;base64,']")
        expect(qr).to_be_visible()
        assert qr.evaluate("img => img.complete && img.naturalWidth") > 0
        shot(receipt, "04-receipt")
        receipt.close()

        # Hand the dossier over to the ward's specialist.
        page.locator('a[data-action="hand_over"]').click()
        page.locator("[name=to_department]").select_option(str(catalogue["ward"]))
        page.locator("[name=to_officer]").select_option(str(catalogue["specialist"]))
        shot(page, "05-hand-over-form")
        page.locator("input[type=submit].default").click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text(code)
        expect(page.locator(".field-status .readonly")).to_have_text("Đang xử lý")
        shot(page, "06-in-progress")

        # The counter sees the dossier but no longer holds it: no supplement request from here.
        expect(page.locator('a[data-action="request_supplement"]')).to_have_count(0)
        expect(page.locator('a[data-action="withdraw"]')).to_be_visible()  # withdrawal stays at the counter
        dossier_page = page.url

        # The ward's specialist, who now holds it, logs in (through the second factor too).
        page.context.clear_cookies()
        page.goto(f"{live_url}/admin/login/")
        page.fill("#id_username", "chuyenvien")
        page.fill("#id_password", settings.DEMO_PASSWORD)
        page.fill("#id_otp_token", authenticator_code(trial_province, "chuyenvien"))
        page.click("input[type=submit]")
        expect(page).to_have_url(f"{live_url}/admin/")
        page.goto(dossier_page)

        # Ask the citizen, once and in writing, for everything missing: one listed paper and one other.
        page.locator('a[data-action="request_supplement"]').click()
        page.locator(f"[name=missing_{catalogue['component']}]").check()
        page.locator(f"[name=reason_{catalogue['component']}]").fill("Bản sao chưa được chứng thực")
        page.locator("[name=other_items]").fill("Ảnh 4x6: chưa nộp")
        shot(page, "07-supplement-form")
        page.locator("input[type=submit].default").click()
        expect(page.locator("ul.messagelist li.success")).to_contain_text(code)
        expect(page.locator(".field-status .readonly")).to_have_text("Yêu cầu bổ sung giấy tờ")
        timeline = page.locator("#events-group")
        expect(timeline).to_contain_text("Yêu cầu bổ sung")
        expect(timeline).to_contain_text("Ảnh 4x6 (chưa nộp)")
        expect(page.locator("a[data-print=supplement]")).to_be_visible()
        shot(page, "08-supplement-requested")

    # What the browser did is in the province's database.
    from dossiers.models import Dossier, Status

    with tenant_context(trial_province):
        dossier = Dossier.objects.get(code=code)
        assert dossier.status == Status.SUPPLEMENT == 5
        assert (dossier.applicant_phone, dossier.applicant_id_number) == ("0905111222", "048090001111")
        supplement = dossier.supplement_requests.get()
        assert {(i.name, i.reason) for i in supplement.items.all()} == {
            (catalogue["component_name"], "Bản sao chưa được chứng thực"),
            ("Ảnh 4x6", "chưa nộp"),
        }
        assert list(dossier.events.order_by("created_at", "id").values_list("action", flat=True)) == [
            "receive",
            "hand_over",
            "request_supplement",
        ]
    connection.set_schema_to_public()


@pytest.fixture(scope="module")
def received_dossier(catalogue, trial_province, live_url, django_db_blocker):
    """A dossier taken in at the counter (committed, so the server sees it)."""
    from django.test import override_settings

    from dossiers import services
    from dossiers.links import lookup_url
    from dossiers.models import Procedure
    from offices.models import Officer

    with django_db_blocker.unblock(), tenant_context(trial_province):
        procedure = Procedure.objects.get(code=PROCEDURE_CODE)
        dossier = services.receive_dossier(
            officer=Officer.objects.get(user__username="motcua"),
            procedure=procedure,
            applicant=services.Applicant("Lê Thị Điện Thoại", id_number="048090002222", phone="0905333444"),
            components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
        )
        with override_settings(SITE_PORT=live_url.rsplit(":", 1)[1].strip("/")):
            url = lookup_url(dossier)  # exactly what the receipt's QR code encodes
    connection.set_schema_to_public()
    return dossier, url


def test_the_qr_link_is_readable_on_a_phone_without_horizontal_scrolling(live_url, received_dossier):
    dossier, url = received_dossier
    assert url.startswith(f"{live_url.rstrip('/')}/tra-cuu/")
    phone = {"width": 360, "height": 740}
    with chromium_page(viewport=phone, is_mobile=True, has_touch=True, device_scale_factor=2) as page:
        from playwright.sync_api import expect

        page.goto(url)
        expect(page.locator("h1")).to_have_text(dossier.code)
        expect(page.locator(".status")).to_have_text("Được tiếp nhận")
        expect(page.get_by_text("Lê T. Đ. T.")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "qr-status-phone.png", full_page=True)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        html = page.content()
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    for secret in ("048090002222", "0905333444", "Lê Thị Điện Thoại"):
        assert secret not in html
