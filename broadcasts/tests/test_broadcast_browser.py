"""In a real browser: one province admin composes a storm warning, a second approves it, and the
progress bar fills to 100 % without reloading, while a real worker sends it through the fake Zalo."""

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from offices.tests.factories import PASSWORD, OfficerFactory
from testing.browser import browser_page
from testing.live import live_stack
from testing.zalo import APP

pytestmark = [pytest.mark.browser, pytest.mark.worker]


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(
        django_db_blocker, slug="thutrinhduyet", name="Tỉnh Thử Bão", agency_code="000.00.01.H95", app=APP,
        queues="broadcasts,default",
    ) as live:  # fmt: skip
        with django_db_blocker.unblock(), tenant_context(live.province):
            from zalo.models import Follower

            for i in range(25):
                Follower.objects.create(user_id=f"b-{i}", is_following=True, last_interaction_at=timezone.now())
                live.fake.interact(f"b-{i}")
            from django_otp.plugins.otp_totp.models import TOTPDevice

            for username in ("quantri.a", "quantri.b"):  # province admins log in with a TOTP code
                officer = OfficerFactory(role="province_admin", user__username=username)
                TOTPDevice.objects.create(user=officer.user, name="test", confirmed=True)
        connection.set_schema_to_public()
        live.start_worker()
        yield live


def current_code(stack, blocker, username):
    """What the admin's authenticator app shows now (read from the live province's database)."""
    with blocker.unblock():  # read in a worker thread: Playwright's event loop runs in this one
        return authenticator_code(stack.province, username)


def login(page, stack, blocker, username):
    page.context.clear_cookies()
    page.goto(f"{stack.portal_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", current_code(stack, blocker, username))
    page.click("input[type=submit]")


def test_compose_approve_and_watch_the_progress_bar_reach_100(stack, django_db_blocker):
    from playwright.sync_api import expect

    shots = stack.logs
    with browser_page() as page:
        login(page, stack, django_db_blocker, "quantri.a")
        page.goto(f"{stack.portal_url}/admin/broadcasts/broadcast/add/")
        page.select_option("#id_category", "storm_flood")
        page.select_option("#id_severity", "emergency")
        page.fill("#id_title", "Bão số 9 đổ bộ đêm nay")
        page.fill("#id_body", "Người dân ven biển sơ tán trước 20:00. Gọi 112 khi cần cứu hộ.")
        page.fill("#id_expires_at_0", f"{timezone.localdate() + timezone.timedelta(days=2):%d/%m/%Y}")
        page.fill("#id_expires_at_1", "18:00")
        page.click("input[name=_continue]")
        expect(page.get_by_text("Xem trước trên điện thoại")).to_be_visible()
        expect(page.locator("body")).to_contain_text("[KHẨN CẤP] Bão số 9 đổ bộ đêm nay")
        page.screenshot(path=shots / "01-composed.png", full_page=True)
        page.click("a[data-action=submit]")
        page.click("input[type=submit]")
        expect(page.locator("body")).to_contain_text("Chờ duyệt")
        change_url = page.url

        login(page, stack, django_db_blocker, "quantri.b")
        page.goto(change_url)
        page.click("a[data-action=approve]")
        page.click("input[type=submit]")
        # The progress bar updates itself (no reload) until the last follower has the warning.
        expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "100", timeout=60_000)
        expect(page.locator("#progress-text")).to_contain_text("Đã gửi")
        page.screenshot(path=shots / "02-sent.png", full_page=True)

    assert len(stack.fake.find_messages(kind="cs")) == 25
