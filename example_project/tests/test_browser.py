"""The takeover in a real browser: Debian's chromium, driven by Playwright, against the live server.

Needs the ``browser`` extra (``pip install -e '.[browser]'``) and ``/usr/bin/chromium`` (``apt-get
install chromium``; never ``playwright install``). Without them the test skips, or fails when ``CI``
is set. Screenshots go to ``test-artifacts/screenshots/`` at the repository root.
"""

import io
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command

from auth_token.models import UserTokenTakeover

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT_MS = 10_000  # per action or expectation; the whole test stays well under a minute


def unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def browser_page():
    """A fresh Chromium page, closed with its browser whatever happens.

    Playwright's sync API keeps an event loop running in this thread, where Django refuses ORM
    calls: the test talks to the database only outside this block.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: pip install -e '.[browser]'")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


def test_takeover_from_the_admin_and_release(live_server):
    call_command("demo_users", stdout=io.StringIO())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with browser_page() as page:
        from playwright.sync_api import expect  # importable: browser_page() skipped otherwise

        expect.set_options(timeout=TIMEOUT_MS)
        # The admin's own login page: it issues the token cookie.
        page.goto(f"{live_server.url}/admin/")
        expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "admin")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
        expect(page.locator("#takeover-banner")).to_have_count(0)

        page.goto(f"{live_server.url}/admin/auth/user/")
        page.get_by_role("link", name="alice", exact=True).click()
        expect(page.get_by_role("heading", name="Change user")).to_be_visible()
        page.get_by_role("link", name="Take over this user").click()
        expect(page.get_by_role("heading", name="Take over alice")).to_be_visible()
        page.get_by_label("Reason").fill("Support ticket 1")
        page.get_by_role("button", name="Take over").click()

        expect(page).to_have_url(f"{live_server.url}/")  # AUTH_TOKEN_TAKEOVER_REDIRECT_URL's default
        banner = page.locator("#takeover-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("You are acting as alice")
        page.screenshot(path=SCREENSHOTS / "takeover-1-banner.png")

        banner.get_by_role("button", name="Release").click()
        expect(page).to_have_url(f"{live_server.url}/admin/auth/user/")
        expect(page.get_by_role("heading", name="Select user to change")).to_be_visible()
        expect(page.locator("#takeover-banner")).to_have_count(0)
        page.screenshot(path=SCREENSHOTS / "takeover-2-released.png")

    record = UserTokenTakeover.objects.get()
    assert (record.actor.username, record.user.username) == ("admin", "alice")
    assert (record.is_active, record.end_reason, record.reason) == (False, "released", "Support ticket 1")
    assert record.token.active_takeover_id is None
