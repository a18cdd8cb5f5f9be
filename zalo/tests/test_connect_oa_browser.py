"""In a real browser: a province admin connects the province's OA through Zalo's consent page (the fake's),
comes back to the OA's page showing "Đã kết nối" and the expiry, and the stored token works at Zalo."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from conftest import authenticator_code
from offices.tests.factories import PASSWORD, OfficerFactory
from testing.browser import browser_page
from testing.live import live_stack
from testing.zalo import APP

# django_db: pytest-django sets up the test database only for sessions with database tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]
ADMIN = "quantri.ketnoi"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(
        django_db_blocker, slug="thuketnoi", name="Tỉnh Thử Kết Nối", agency_code="000.00.01.H96", app=APP,
        queues="default",
    ) as live:  # fmt: skip
        with django_db_blocker.unblock(), tenant_context(live.province):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            from zalo.models import ZaloAccount

            officer = OfficerFactory(role="province_admin", user__username=ADMIN)
            TOTPDevice.objects.create(user=officer.user, name="test", confirmed=True)
            live.account_pk = ZaloAccount.objects.get().pk
        connection.set_schema_to_public()
        yield live


def in_province(stack, blocker, fn):
    """fn() in the live province's schema, in a worker thread (Playwright's event loop runs in this one)."""

    def run():
        from django.db import connection as thread_connection

        try:
            with tenant_context(stack.province):
                return fn()
        finally:
            thread_connection.close()

    with blocker.unblock(), ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def stored_account():
    from zalo.models import ZaloAccount

    return ZaloAccount.objects.get()


def login(page, stack, blocker):
    page.context.clear_cookies()
    page.goto(f"{stack.portal_url}/admin/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    with blocker.unblock():
        page.fill("#id_otp_token", authenticator_code(stack.province, ADMIN))
    page.click("input[type=submit]")


def test_admin_connects_the_oa_through_zalos_consent_page(stack, django_db_blocker):
    from playwright.sync_api import expect

    fake_url = stack.env["ZALO_OAUTH_BASE_URL"]
    with browser_page() as page:
        login(page, stack, django_db_blocker)
        oa_page = f"{stack.portal_url}/admin/zalo/zaloaccount/{stack.account_pk}/change/"
        page.goto(oa_page)
        expect(page.locator("#zalo-connection-state")).to_have_text("Chưa kết nối")
        page.get_by_role("button", name="Kết nối Zalo OA").click()

        page.wait_for_url(lambda url: url.startswith(f"{fake_url}/v4/oa/permission?"))
        expect(page.get_by_text("xin quyền quản lý Official Account")).to_be_visible()
        page.screenshot(path=stack.logs / "connect-01-consent.png", full_page=True)
        page.get_by_role("button", name="Đồng ý (Allow)").click()

        page.wait_for_url(oa_page)
        expect(page.locator(".messagelist")).to_contain_text("Đã kết nối Zalo OA")
        expect(page.locator("#zalo-connection-state")).to_have_text("Đã kết nối")
        account = in_province(stack, django_db_blocker, stored_account)
        expires = timezone.localtime(account.access_token_expires_at)
        assert expires > timezone.now() + timezone.timedelta(hours=20)
        expect(page.locator("#zalo-connection-expires")).to_contain_text(f"{expires:%d/%m/%Y %H:%M}")
        html = page.content()
        assert account.access_token not in html and account.refresh_token not in html
        page.screenshot(path=stack.logs / "connect-02-connected.png", full_page=True)

    def call_zalo():
        from zalo import accounts

        urls = {
            f"ZALO_{name}_BASE_URL": stack.env[f"ZALO_{name}_BASE_URL"] for name in ("OAUTH", "OPENAPI", "BUSINESS")
        }
        with override_settings(**urls):
            accounts._client.cache_clear()
            try:
                return accounts.call_with_token(lambda token: (accounts.client().list_followers(token), token)[1])
            finally:
                accounts._client.cache_clear()

    assert in_province(stack, django_db_blocker, call_zalo) == account.access_token  # no refresh was needed
