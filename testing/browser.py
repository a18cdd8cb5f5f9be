"""Debian's Chromium driven by Playwright, as the browser tests use it (`playwright install` cannot
download anything here)."""

from contextlib import contextmanager

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic", "--no-proxy-server"]  # fmt: skip


@contextmanager
def browser_page(wait_ms=20_000):
    """A desktop-sized page in Vietnamese; every wait (navigation, clicks, assertions) up to `wait_ms`."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=wait_ms)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
            context.set_default_timeout(wait_ms)
            yield context.new_page()
        finally:
            browser.close()


def admin_login(page, base_url, username, password, code):
    """Log in to an admin site through its login page and second factor; ends on the admin's index."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.fill("#id_otp_token", code)
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{base_url}/admin/")
