"""Every page of the library and of the admin, in Chromium at 1280 x 800 and 390 x 844 pixels: no
horizontal overflow, no serious or critical axe-core violation, a screenshot of each. The project
is the one the docs lead to: nothing at ``/``, Django's default ``LOGIN_REDIRECT_URL``, the
``Secure`` cookie the settings default to (kept by browsers on http://localhost). The takeover
goes from the user admin to a refused action and back with Release, without a dead end.

Screenshots: ``test-artifacts/screenshots/pages/<page>-<width>.png``; the axe results of every
page: ``test-artifacts/browser-pages.json``. See ``tests/browser.py`` for what this needs.
"""

from __future__ import annotations

import json
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import RequestFactory

from auth_token import services
from auth_token.models import Client as ApiClient
from auth_token.models import Token
from tests.browser import ARTIFACTS, SCREENSHOTS, TIMEOUT_MS, browser_page
from tests.factories import UserFactory, issue_token

pytestmark = pytest.mark.django_db(transaction=True)

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
BLOCKING_IMPACTS = {"serious", "critical"}
# Violations of Django's own admin, in markup this library does not render: reported in the JSON
# file, not failed. The user change page is Django's UserAdmin form: the help icons of its
# filter_horizontal widgets carry a prohibited aria-label, and its split date-time inputs have no
# label of their own.
DJANGOS_OWN = {"admin-user": {"aria-prohibited-attr", "label"}}
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
PASSWORD = "Pl3nty-of-letters"


@pytest.fixture
def documented_project(settings):
    """Only the settings the install page asks for; the test settings' own choices undone."""
    settings.ROOT_URLCONF = "tests.urls_without_home"
    settings.LOGIN_URL = "auth_token:login"
    settings.LOGIN_REDIRECT_URL = "/accounts/profile/"  # Django's default: nothing serves it
    settings.AUTH_TOKEN_COOKIE_SECURE = True
    settings.AUTH_TOKEN_LOGIN_THROTTLE_RATE = "12/min"


@pytest.fixture
def people(documented_project):
    """alice with a phone session and a device; an admin; one user per width to change a password."""
    alice = UserFactory(username="alice", password=PASSWORD, email="alice@example.com")
    issue_token(alice, request=RequestFactory().get("/", HTTP_USER_AGENT=PHONE, REMOTE_ADDR="203.0.113.7"))
    services.register_device(RequestFactory().get("/", HTTP_USER_AGENT=PHONE), alice, "phone-1", name="Pixel")
    admin = UserFactory(username="admin", password=PASSWORD, is_staff=True, is_superuser=True)
    admin.user_permissions.add(Permission.objects.get(codename="takeover_user"))
    for width in VIEWPORTS:
        UserFactory(username=f"carol{width}", password=PASSWORD)
    ApiClient.objects.create(name="kiosk", idle_age=600)
    return {"alice": alice, "token": Token.objects.filter(user=alice).first()}


class Checker:
    """Looks at each page: overflow, axe-core, a screenshot; keeps every finding for the report."""

    def __init__(self, width: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.width, self.axe, self.report, self.problems = width, Axe(), {}, []
        (SCREENSHOTS / "pages").mkdir(parents=True, exist_ok=True)

    def check(self, page, name: str) -> None:
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        violations = self.axe.run(page).response["violations"]
        page.screenshot(path=SCREENSHOTS / "pages" / f"{name}-{self.width}.png", full_page=True)
        found = [
            {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]}
            for v in violations
        ]
        self.report[name] = {"url": page.url, "overflow_px": overflow, "violations": found}
        if overflow > 0:
            self.problems.append(f"{name}@{self.width}: {overflow}px of horizontal overflow")
        for violation in violations:
            if violation["impact"] in BLOCKING_IMPACTS and violation["id"] not in DJANGOS_OWN.get(name, ()):
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.problems.append(
                    f"{name}@{self.width}: axe {violation['impact']} {violation['id']} {targets}"
                )


def log_in(page, base, username, path="/accounts/login/", remember=False):
    page.goto(f"{base}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    if remember:
        page.get_by_label("Remember me").check()
    page.locator("main, #content").get_by_role("button", name="Log in").click()


def walk_library_pages(page, base, width, checker):
    from playwright.sync_api import expect

    page.goto(f"{base}/accounts/login/")
    checker.check(page, "login")
    log_in(page, base, "alice")
    expect(page).to_have_url(f"{base}/accounts/sessions/")  # not Django's /accounts/profile/ 404
    expect(page.locator(".at-badge")).to_have_text("This browser")
    # What the browser tutorial says the browser keeps: HttpOnly, Secure (kept on localhost),
    # SameSite=Lax, and no expiry without "Remember me" (a browser-session cookie).
    cookie = next(c for c in page.context.cookies() if c["name"] == "Authorization")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["expires"]) == (
        True,
        True,
        "Lax",
        -1,
    )
    checker.check(page, "sessions")
    page.get_by_role("link", name="Create a personal access token").click()
    checker.check(page, "personal-token-form")
    page.get_by_label("Name").fill("deploy script")
    page.get_by_label("sessions:read").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Your new personal access token")).to_be_visible()
    checker.check(page, "personal-token-created")
    # The whole token in view, at either width: nothing to scroll inside its box.
    whole = "el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight"
    assert page.locator("#personal-token").evaluate(whole)
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_text("deploy script")).to_be_visible()
    checker.check(page, "sessions-with-a-personal-token")
    page.goto(f"{base}/accounts/login/")
    expect(page.get_by_text("You are already signed in as alice.")).to_be_visible()
    checker.check(page, "login-signed-in")
    page.goto(f"{base}/accounts/password/")
    checker.check(page, "password-change")
    page.goto(f"{base}/accounts/logout/")
    checker.check(page, "logout-confirm")
    page.locator("main").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Logged out")).to_be_visible()
    checker.check(page, "logged-out")

    log_in(page, base, f"carol{width}", remember=True)
    # "Remember me": the cookie is kept until the token's expiry, 14 days ahead.
    cookie = next(c for c in page.context.cookies() if c["name"] == "Authorization")
    assert 13.9 * 86400 < cookie["expires"] - time.time() <= 14 * 86400
    page.goto(f"{base}/accounts/password/")
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "An0ther-long-secret")
    page.fill("#id_new_password2", "An0ther-long-secret")
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    checker.check(page, "password-change-done")
    page.get_by_role("link", name="Back to your sessions").click()
    expect(page).to_have_url(f"{base}/accounts/sessions/")
    page.locator("header").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Logged out")).to_be_visible()

    for _ in range(14):  # failed logins for one name until the throttle answers
        log_in(page, base, "mallory")
        if page.get_by_role("heading", name="Too many login attempts").count():
            break
    checker.check(page, "login-throttled")


def walk_admin_and_takeover(page, base, checker, alice_pk, token_pk):
    from playwright.sync_api import expect

    page.goto(f"{base}/admin/")
    checker.check(page, "admin-login")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    checker.check(page, "admin-index")
    for name, path in [
        ("admin-tokens", "/admin/auth_token/token/"),
        ("admin-token", f"/admin/auth_token/token/{token_pk}/change/"),
        ("admin-devices", "/admin/auth_token/devicekey/"),
        ("admin-users", "/admin/auth/user/"),
        ("admin-user", f"/admin/auth/user/{alice_pk}/change/"),
        ("admin-clients", "/admin/auth_token/client/"),
    ]:
        page.goto(f"{base}{path}")
        checker.check(page, name)
    page.get_by_role("link", name="kiosk").click()
    expect(page.get_by_label("Allowed scopes")).to_have_value("")
    checker.check(page, "admin-client")
    page.goto(f"{base}/admin/auth/user/{alice_pk}/change/")

    page.get_by_role("link", name="Take over this user").click()
    expect(page.get_by_role("heading", name="Take over alice")).to_be_visible()
    checker.check(page, "admin-takeover-confirm")
    page.get_by_label("Reason").fill("Ticket 4711")
    page.get_by_role("button", name="Take over", exact=True).click()
    # Nothing serves "/", and alice may not use the admin: her sessions page, with the banner.
    expect(page).to_have_url(f"{base}/accounts/sessions/")
    expect(page.locator("#takeover-banner")).to_contain_text("You are acting as alice.")
    checker.check(page, "sessions-during-takeover")
    page.goto(f"{base}/admin/")  # the admin refuses alice, and still offers Release
    expect(page.get_by_text("You are acting as alice.")).to_be_visible()
    checker.check(page, "admin-during-takeover")

    page.goto(f"{base}/accounts/password/")  # refused during a takeover: why, and Release
    expect(page.get_by_role("heading", name="Not while you act as another user")).to_be_visible()
    checker.check(page, "takeover-refused")
    page.locator("main").get_by_role("button", name="Release the takeover").click()
    expect(page).to_have_url(f"{base}/accounts/password/")
    expect(page.get_by_text("You are acting as")).to_have_count(0)

    page.goto(f"{base}/admin/auth_token/usertokentakeover/")
    checker.check(page, "admin-takeovers")
    page.locator("#result_list tbody a").first.click()
    expect(page.get_by_text("Ticket 4711")).to_be_visible()
    checker.check(page, "admin-takeover")


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_every_page_fits_and_passes_axe(live_server, people, width):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    checker = Checker(width)
    cache.clear()  # the login throttle's counters
    with browser_page(VIEWPORTS[width]) as page:
        walk_library_pages(page, live_server.url, width, checker)
    cache.clear()
    with browser_page(VIEWPORTS[width]) as page:
        walk_admin_and_takeover(page, live_server.url, checker, people["alice"].pk, people["token"].pk)

    report_path = ARTIFACTS / "browser-pages.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    report[width] = checker.report
    report_path.write_text(json.dumps(report, indent=2, sort_keys=True))
    assert checker.problems == [], "\n".join(checker.problems)
