"""The national view in a real browser (Debian's Chromium through Playwright) against a real server.

Two throwaway provinces are seeded the way `seed_demo` seeds a province (departments, officers, the
real catalogue; the first also the demo dossiers in every status, the second a single dossier), and
removed with their schemas afterwards. The national admin (a superuser of the public schema, with
its authenticator) logs in on the national domain through the password and TOTP code, opens the
view from the admin's index, chooses a period, and reads the table: each province's row is exactly
`figures(scope)` computed in that province's schema. The screenshot is kept at
docs/screenshots/national.png.
"""

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from conftest import totp_code
from provinces.services import ProvinceSpec, create_province
from testing.browser import admin_login, browser_page
from testing.live import answers, drop_province, free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_COPY = ROOT / "docs" / "screenshots" / "national.png"
SPECS = (
    ProvinceSpec("Thành phố Đà Nẵng (thử toàn quốc)", "qgdanang", "qgdanang.localhost", "000.00.01.H95", None),
    ProvinceSpec("Tỉnh Cà Mau (thử toàn quốc)", "qgcamau", "qgcamau.localhost", "000.00.01.H94", None),
)
USERNAME = "quocgia.trinhduyet"
PASSWORD = "Mat-khau-quoc-gia-trinh-duyet-1"


def _one_dossier():
    from dossiers import services
    from dossiers.models import Procedure
    from offices.models import Officer

    procedure = Procedure.objects.get(code="1.004873")
    services.receive_dossier(
        officer=Officer.objects.get(user__username="motcua"),
        procedure=procedure,
        applicant=services.Applicant("Lâm Thị Cúc", phone="0905111222"),
        components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
    )


def _remove_national_admin():
    """Row by row: deleting a national user through the ORM collects the province-only authtoken
    table, which the public schema does not have."""
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with schema_context(get_public_schema_name()):
        ids = list(User.objects.filter(username=USERNAME).values_list("pk", flat=True))
        TOTPDevice.objects.filter(user_id__in=ids).delete()
        User.groups.through.objects.filter(user_id__in=ids).delete()
        User.user_permissions.through.objects.filter(user_id__in=ids).delete()
        users = User.objects.filter(pk__in=ids)
        users._raw_delete(users.db)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The two provinces (committed) and the national admin with a confirmed authenticator."""
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dossiers import demo as dossier_demo
    from offices import demo as office_demo

    with django_db_blocker.unblock():
        for spec in SPECS:
            drop_province(spec.slug)  # left behind by an aborted run (with --reuse-db)
        _remove_national_admin()
        provinces = []
        for index, spec in enumerate(SPECS):
            province, _created = create_province(spec)
            with tenant_context(province):
                office_demo.seed(province)
                if index == 0:
                    dossier_demo.seed(province)
                else:
                    dossier_demo.seed_catalogue()
                    _one_dossier()
            provinces.append(province)
        connection.set_schema_to_public()
        with schema_context(get_public_schema_name()):
            user = User.objects.create_superuser(USERNAME, "qg@example.com", PASSWORD)
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    try:
        yield provinces
    finally:
        with django_db_blocker.unblock():
            _remove_national_admin()
            for spec in SPECS:
                drop_province(spec.slug)


@contextmanager
def portal(django_db_blocker, log_dir):
    """`manage.py runserver` on a free port against the test database; yields the port."""
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
    log_path = log_dir / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: answers(port) or process.poll() is not None, 60, "the portal server")
        assert process.poll() is None, log_path.read_text()[-3000:]
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_url(seeded, django_db_blocker, tmp_path_factory):
    with portal(django_db_blocker, tmp_path_factory.mktemp("national-server")) as port:
        yield f"http://localhost:{port}"


def national_code():
    """The national admin's current TOTP code, read in a worker thread (Playwright's loop owns this one)."""

    def read():
        from django.db import connection as thread_connection
        from django_otp.plugins.otp_totp.models import TOTPDevice

        try:
            with schema_context(get_public_schema_name()):
                return totp_code(TOTPDevice.objects.get(user__username=USERNAME, confirmed=True))
        finally:
            thread_connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(read).result()


def test_the_national_admin_sees_every_province_side_by_side(live_url, seeded, tmp_path):
    from playwright.sync_api import expect

    from reports import indicators, national
    from reports.indicators import Scope

    today = timezone.localdate()
    start = today - timedelta(days=90)
    code = national_code()
    with browser_page() as page:
        admin_login(page, live_url, USERNAME, PASSWORD, code)

        title = "Các tỉnh, thành phố: kết quả giải quyết hồ sơ"
        page.locator("#national-reports").get_by_role("link", name=title).click()
        expect(page.locator("h1")).to_have_text(title)
        form = page.locator("#period-form")
        form.locator("[name=period]").select_option("range")
        form.locator("[name=start]").fill(f"{start:%d/%m/%Y}")
        form.locator("[name=end]").fill(f"{today:%d/%m/%Y}")
        form.get_by_role("button", name="Xem").click()
        expect(page.locator("#national-period")).to_have_text(f"Kỳ báo cáo: từ {start:%d/%m/%Y} đến {today:%d/%m/%Y}")
        expect(page.locator('#national-table tr[data-province="qgcamau"]')).to_be_visible()
        shown = page.eval_on_selector_all(
            "#national-table tbody tr",
            "rows => rows.map(r => [r.dataset.province, r.querySelector('th').textContent.trim(),"
            " [...r.querySelectorAll('td')].map(td => td.textContent.trim())])",
        )
        page.screenshot(path=tmp_path / "national.png", full_page=True)
        SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "national.png", SCREENSHOT_COPY)

    scope = Scope(start=start, end=today)
    expected, results = {}, []
    for province in national.provinces():
        with tenant_context(province):
            figures = indicators.figures(scope)
        results.append(national.ProvinceFigures(province, figures))
        expected[province.slug] = (province.name, national.shown(province.name, province.slug, figures).cells)
    connection.set_schema_to_public()
    rows = {slug: (name, cells) for slug, name, cells in shown}
    assert rows.pop("") == ("Cả nước", national.shown("Cả nước", "", national.total(results)).cells)
    assert rows == expected
    # The seeded provinces differ: the demo's dossiers in one, a single dossier received in the other.
    danang, camau = expected["qgdanang"][1], expected["qgcamau"][1]
    assert int(danang[0]) > 1 and int(danang[1]) > 0 and danang[2].endswith("%")
    assert camau[:2] == ["1", "0"] and camau[2] == "—"
    assert (tmp_path / "national.png").stat().st_size > 10_000
