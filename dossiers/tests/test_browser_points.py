"""In a real browser: the receipt (form 01) and the register (form 06) of a ward's reception point name
the point and carry its agency-coded dossier code (issue 15).

Runs on the throwaway province of `test_browser.py` (its fixtures, imported), given Đà Nẵng's
administrative code so that a real ward (Phường Hải Châu) can be a point. Screenshots are kept in
docs/screenshots/ (receipt-ward.png, register-ward.png).
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from dossiers.tests.test_browser import (  # noqa: F401 - fixtures
    PROCEDURE_CODE,
    chromium_page,
    live_url,
    trial_province,
)
from testing.browser import admin_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WARD_CODE, WARD_NAME = "20242", "Phường Hải Châu"
USERNAME = "motcua.haichau"


@pytest.fixture(scope="module")
def ward_dossier(trial_province, django_db_blocker):  # noqa: F811 - the imported fixture
    """Hải Châu's point, its counter officer and a dossier received there, committed."""
    from dossiers import services
    from dossiers.models import Procedure
    from dossiers.tests.factories import all_components
    from offices.points import ensure_ward_point
    from offices.security import ensure_demo_device
    from offices.services import ensure_officer

    with django_db_blocker.unblock():
        trial_province.admin_code = 48
        trial_province.save(update_fields=["admin_code"])
        with tenant_context(trial_province):
            point, _created = ensure_ward_point(
                trial_province,
                WARD_CODE,
                WARD_NAME,
                address="Số 270 Trần Phú, Phường Hải Châu",
                opening_hours="Sáng 7:30–11:30, chiều 13:30–17:00",
            )
            officer, _created = ensure_officer(
                username=USERNAME,
                full_name="Trần Thị Ánh",
                role="reception",
                department=point,
                title="Cán bộ một cửa phường",
                password=settings.DEMO_PASSWORD,
            )
            ensure_demo_device(officer.user, trial_province.schema_name)
            procedure = Procedure.objects.get(code=PROCEDURE_CODE)
            dossier = services.receive_dossier(
                officer=officer,
                procedure=procedure,
                applicant=services.Applicant("Phan Văn Phường", id_number="048090002222", phone="0905222333"),
                components=all_components(procedure),
            )
            result = {"pk": dossier.pk, "code": dossier.code, "point": point.pk, "agency_code": point.agency_code}
        connection.set_schema_to_public()
    return result


def test_the_receipt_and_the_register_of_a_ward_point_name_the_point(live_url, ward_dossier, trial_province):  # noqa: F811
    from playwright.sync_api import expect

    code, point_name = ward_dossier["code"], f"Bộ phận một cửa {WARD_NAME}"
    assert code.startswith(ward_dossier["agency_code"] + "-") and ward_dossier["agency_code"].endswith(".H98")
    DOCS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate().strftime("%d/%m/%Y")

    with chromium_page() as page:
        admin_login(page, live_url, USERNAME, settings.DEMO_PASSWORD, authenticator_code(trial_province, USERNAME))

        # Form 01: the letterhead and the place of return are the ward's point, with its address and hours.
        page.goto(f"{live_url}/admin/dossiers/dossier/{ward_dossier['pk']}/print/receipt/")
        body = page.locator("body")
        expect(body).to_contain_text(f"Mã hồ sơ: {code}")
        expect(page.locator(".letterhead .department")).to_have_text(point_name)
        expect(page.locator(".letterhead .point-address")).to_have_text("Số 270 Trần Phú, Phường Hải Châu")
        expect(page.locator(".letterhead .point-hours")).to_contain_text("7:30–11:30")
        expect(body).to_contain_text(f"Nơi trả kết quả: {point_name}, Số 270 Trần Phú")
        page.screenshot(path=DOCS / "receipt-ward.png", full_page=True)

        # Form 06: the register of the point (the officer's own, chosen by default) lists the dossier.
        page.goto(f"{live_url}/admin/dossiers/dossier/register/")
        expect(page.locator("select[name=point]")).to_have_value(str(ward_dossier["point"]))
        page.goto(
            f"{live_url}/admin/dossiers/dossier/register/?point={ward_dossier['point']}"
            f"&start={today}&end={today}&format=html"
        )
        expect(page.locator(".letterhead")).to_contain_text(point_name)
        expect(page.locator(".letterhead .point-code")).to_have_text(f"Mã định danh: {ward_dossier['agency_code']}")
        expect(page.locator("table.register tbody")).to_contain_text(code)
        page.screenshot(path=DOCS / "register-ward.png", full_page=True)
