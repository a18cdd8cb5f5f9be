"""The one-tap rating page on a phone, in a real browser (Debian's Chromium through Playwright) against
a real server: the citizen opens the link from their message, writes a comment, taps one big button,
and the rating is recorded once. Screenshots in test-output/browser/."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from dossiers.tests.test_browser import (  # noqa: F401 -- the browser tests' province and server fixtures
    PROCEDURE_CODE,
    SCREENSHOTS,
    chromium_page,
    live_url,
    trial_province,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def returned_dossier(trial_province, live_url, django_db_blocker):  # noqa: F811
    """A dossier whose result was returned (committed, so the server sees it) and its rating link."""
    from django.test import override_settings

    from dossiers import services
    from dossiers.models import Procedure
    from offices.models import Officer
    from ratings.links import rating_url

    with django_db_blocker.unblock(), tenant_context(trial_province):
        procedure = Procedure.objects.get(code=PROCEDURE_CODE)
        reception = Officer.objects.get(user__username="motcua")
        specialist = Officer.objects.get(user__username="chuyenvien")
        dossier = services.receive_dossier(
            officer=reception,
            procedure=procedure,
            applicant=services.Applicant("Trần Văn Đánh Giá", phone="0905777888"),
            components=[services.SubmittedComponent(c.name, c.kind, c.count) for c in procedure.components.all()],
        )
        services.hand_over(dossier, reception, to_department=specialist.department, to_officer=specialist)
        services.mark_result_ready(dossier, Officer.objects.get(user__username="lanhdao"), result="Giấy số 3")
        services.return_result(dossier, reception)
        with override_settings(SITE_PORT=live_url.rsplit(":", 1)[1].strip("/")):
            url = rating_url(dossier)  # exactly what the rating request's message links
    connection.set_schema_to_public()
    return dossier, url


def test_a_citizen_rates_on_a_phone_with_one_tap(live_url, trial_province, returned_dossier, django_db_blocker):  # noqa: F811
    from ratings.models import Rating

    dossier, url = returned_dossier
    phone = {"width": 360, "height": 740}
    with chromium_page(viewport=phone, is_mobile=True, has_touch=True, device_scale_factor=2) as page:
        from playwright.sync_api import expect

        page.goto(url)
        expect(page.locator("h1")).to_have_text(dossier.code)
        buttons = page.locator('button[name="score"]')
        expect(buttons).to_have_count(5)
        heights = [buttons.nth(i).bounding_box()["height"] for i in range(5)]
        page.screenshot(path=SCREENSHOTS / "rating-phone.png", full_page=True)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        page.locator("#comment").fill("Cán bộ hướng dẫn tận tình nhưng phải chờ lâu")
        page.get_by_role("button", name="4 ★ Hài lòng").tap()
        expect(page.get_by_role("status")).to_have_text("Cảm ơn ông/bà đã đánh giá.")
        expect(page.get_by_text("4/5")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "rating-phone-thanks.png", full_page=True)
        page.reload()  # a reload after the redirect posts nothing again
        expect(page.get_by_text("4/5")).to_be_visible()
    assert widths[0] <= widths[1], f"page scrolls sideways: {widths}"
    assert min(heights) >= 44, f"buttons too small to tap: {heights}"  # a thumb's width
    with django_db_blocker.unblock(), tenant_context(trial_province):
        rating = Rating.objects.get(dossier=dossier)
        assert (rating.score, rating.comment, rating.changes, rating.source) == (
            4,
            "Cán bộ hướng dẫn tận tình nhưng phải chờ lâu",
            0,
            "page",
        )
    connection.set_schema_to_public()
