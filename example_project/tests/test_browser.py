"""The takeover in a real browser: Debian's chromium, driven by Playwright, against the live server.

Needs what ``tests/browser.py`` says; without it the test skips, or fails when ``CI`` is set.
Screenshots go to ``test-artifacts/screenshots/`` at the repository root.
"""

import io

from django.core.management import call_command

from auth_token.models import UserTokenTakeover
from tests.browser import SCREENSHOTS, TIMEOUT_MS, browser_page


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
