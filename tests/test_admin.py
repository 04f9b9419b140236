"""The token, device key and takeover audit admins; the user admin patch and its check (W006).

Read-only but for names, no add form, secrets never on a page nor in a lookup, revocation and
deactivation through ``services``. Takeover from the user admin: ``test_admin_takeover.py``.
"""

import html
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.messages import get_messages
from django.core import checks
from django.test import RequestFactory
from django.utils import formats, timezone

from auth_token import checks as auth_checks
from auth_token import services
from auth_token.admin import TakeoverUserAdminMixin, TokenAdmin, patch_user_admin
from auth_token.models import DeviceKey, Token
from auth_token.test import Client
from tests.factories import UserFactory, end_takeover, issue_token, start_takeover

pytestmark = pytest.mark.django_db

User = get_user_model()
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DEVICE_UUID = "0b7e3a52-5d0c-4c1e-9d2e-6f3f1c1d2a10"
TOKENS = "/admin/auth_token/token/"
DEVICES = "/admin/auth_token/devicekey/"
TAKEOVERS = "/admin/auth_token/usertokentakeover/"


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(root):
    client = Client()
    client.force_login(root)
    return client


def login_from(user, ip="10.0.0.7", user_agent=FIREFOX, **options):
    """Return ``(token, raw)`` as if ``user`` logged in from ``ip`` with ``user_agent``."""
    request = RequestFactory().get("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
    return issue_token(user, request, **options)


def results(response):
    return list(response.context["cl"].result_list)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def utc(settings):
    """The audit log's date hierarchy truncates dates in the current time zone: MySQL and MariaDB
    need their time zone tables for any zone but UTC, and this server has none (see below)."""
    settings.TIME_ZONE = "UTC"


def secrets_of(*objects):
    """Every secret or digest a page must never show: raw values, digests and session auth hashes."""
    values = []
    for obj in objects:
        if isinstance(obj, str):
            values.append(obj)
            continue
        for name in ("key", "login_token", "session_auth_hash"):
            value = getattr(obj, name, "")
            if value:
                values += [value, value.split("$")[-1]]
    assert values
    return values


def assert_shows_none(response, secrets):
    assert response.status_code == 200
    content = response.content.decode()
    for secret in secrets:
        assert secret not in content


# Pages render and never show a secret.


def test_token_admin__changelist_shows_no_secret(root_client, alice):
    token, raw = login_from(alice, user_agent=IPHONE)
    response = root_client.get(TOKENS)
    assert_shows_none(response, secrets_of(token, raw))
    content = response.content.decode()
    assert "alice" in content
    assert "10.0.0.7" in content
    assert "Mobile Safari on iOS" in content


def test_token_admin__changelist_status_says_active_expired_or_revoked_with_the_expiry(root_client, alice):
    now = timezone.now()
    active, _ = login_from(alice)
    expired, _ = login_from(alice)
    revoked, _ = login_from(alice)
    Token.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(hours=3, minutes=5))
    services.revoke(revoked)
    active.refresh_from_db()
    content = root_client.get(TOKENS).content.decode()
    assert "Active, expires in 59\xa0minutes" in content
    assert "Expired 3\xa0hours ago" in content
    assert ">Revoked</span>" in content
    exact = formats.localize(timezone.localtime(active.expires_at))
    assert f'<span title="{exact}">Active, expires in' in content
    assert "Firefox on Linux" in content  # the name column falls back to the browser


def breadcrumbs(content):
    """The breadcrumbs' items as text, whatever the markup (Django 6.1 made them a list)."""
    block = re.search(r'<(div|ol) class="breadcrumbs">(.*?)</\1>', content, re.S).group(2)
    items = (html.unescape(text).strip(" \n\u203a") for text in re.findall(r">([^<>]+)<", f">{block}<"))
    return [item for item in items if item]


def test_admin__breadcrumbs_and_titles_are_not_doubled(root_client, root, alice):
    content = root_client.get(TOKENS).content.decode()
    assert breadcrumbs(content) == ["Home", "Token sessions", "Authorization tokens"]
    confirmation = root_client.get(f"/admin/auth/user/{alice.pk}/takeover/").content.decode()
    assert breadcrumbs(confirmation) == [
        "Home",
        "Authentication and Authorization",
        "Users",
        "alice",
        "Take over",
    ]


def test_takeover_audit_admin__detail_shows_each_field_once(root_client, root, alice):
    token, _ = login_from(root)
    record = start_takeover(token, alice, reason="Ticket 9")
    end_takeover(token)
    content = root_client.get(f"{TAKEOVERS}{record.pk}/change/").content.decode()
    labels = re.findall(r"<label>([^<]+):</label>", content)
    assert len(labels) == len(set(labels)), labels
    assert {"Actor", "User taken over", "Token", "Reason", "End reason"} <= set(labels)
    assert f'<a href="/admin/auth/user/{alice.pk}/change/">alice</a>' in content
    assert "Ticket 9" in content


def test_token_admin__change_form_shows_no_secret_and_only_name_is_editable(root_client, alice):
    token, raw = login_from(alice)
    response = root_client.get(f"{TOKENS}{token.pk}/change/")
    assert_shows_none(response, secrets_of(token, raw))
    content = response.content.decode()
    assert str(token.public_id) in content
    assert "Firefox on Linux" in content
    form = response.context["adminform"].form
    assert list(form.fields) == ["name"]
    root_client.post(f"{TOKENS}{token.pk}/change/", {"name": "Laptop"})
    for page in ("history", "delete"):
        assert_shows_none(root_client.get(f"{TOKENS}{token.pk}/{page}/"), secrets_of(token, raw))


def test_token_admin__change_form_links_device_and_takeover(root_client, alice, bob):
    device, _ = services.register_device(None, alice, DEVICE_UUID, name="Phone")
    token, raw = issue_token(alice, device=device)
    takeover = start_takeover(token, bob)
    response = root_client.get(f"{TOKENS}{token.pk}/change/")
    assert_shows_none(response, secrets_of(token, raw, device, takeover))
    content = response.content.decode()
    assert f'href="{DEVICES}{device.pk}/change/"' in content
    assert f'href="{TAKEOVERS}{takeover.pk}/change/"' in content


def test_token_admin__user_agent_is_escaped(root_client, alice):
    login_from(alice, user_agent="<script>alert(1)</script>")
    assert_shows_none(root_client.get(TOKENS), ["<script>alert(1)</script>"])


def test_device_admin__pages_show_no_secret(root_client, alice):
    device, secret = services.register_device(None, alice, DEVICE_UUID, name="Phone", user_agent=IPHONE)
    for url in (DEVICES, f"{DEVICES}{device.pk}/change/"):
        response = root_client.get(url)
        assert_shows_none(response, secrets_of(device, secret))
        assert device.uuid in response.content.decode()
    form = root_client.get(f"{DEVICES}{device.pk}/change/").context["adminform"].form
    assert list(form.fields) == ["name"]


def test_takeover_admin__pages_show_no_secret(root_client, alice, bob, utc):
    token, raw = issue_token(alice)
    takeover = start_takeover(token, bob, ip="10.0.0.9", reason="ticket 42")
    for url in (TAKEOVERS, f"{TAKEOVERS}{takeover.pk}/change/"):
        response = root_client.get(url)
        assert_shows_none(response, secrets_of(token, raw, takeover))
        content = response.content.decode()
        assert (str(token.public_id) in content) is (url != TAKEOVERS)  # the list leaves it to the detail
        assert "ticket 42" in content


@pytest.mark.parametrize(
    "url",
    [
        f"{TOKENS}?key__startswith=1",
        f"{TOKENS}?key=x",
        f"{TOKENS}?session_auth_hash__startswith=a",
        f"{DEVICES}?login_token__startswith=1",
        f"{DEVICES}?session_auth_hash__startswith=a",
        f"{TAKEOVERS}?session_auth_hash__startswith=a",
        f"{TOKENS}?user__password__startswith=md5",
    ],
)
def test_admin__secret_lookup_refused(root_client, alice, bob, url):
    token, _ = issue_token(alice)
    start_takeover(token, bob)
    services.register_device(None, alice, DEVICE_UUID)
    assert root_client.get(url).status_code == 400


# Search and filters.


def test_token_admin__search_by_username(root_client, alice, bob):
    alice_token, _ = login_from(alice)
    login_from(bob)
    assert results(root_client.get(TOKENS, {"q": "alic"})) == [alice_token]


def test_token_admin__search_by_email(root_client, alice, bob):
    login_from(alice)
    bob_token, _ = login_from(bob)
    assert results(root_client.get(TOKENS, {"q": "bob@example.com"})) == [bob_token]


def test_token_admin__search_by_ip_is_exact(root_client, alice, bob):
    alice_token, _ = login_from(alice, ip="10.0.0.7")
    login_from(bob, ip="10.0.0.70")
    assert results(root_client.get(TOKENS, {"q": "10.0.0.7"})) == [alice_token]
    assert results(root_client.get(TOKENS, {"q": "10.0.0"})) == []


def test_token_admin__search_by_ipv6(root_client, alice):
    token, _ = login_from(alice, ip="2001:db8::1")
    assert results(root_client.get(TOKENS, {"q": "2001:DB8::1"})) == [token]


def test_token_admin__filter_active(root_client, alice):
    active, _ = issue_token(alice)
    revoked, _ = issue_token(alice)
    services.revoke(revoked)
    assert results(root_client.get(TOKENS, {"is_active__exact": "1", "q": "alice"})) == [active]
    assert results(root_client.get(TOKENS, {"is_active__exact": "0", "q": "alice"})) == [revoked]


def test_token_admin__filter_expired(root_client, alice):
    fresh, _ = issue_token(alice)
    expired, _ = issue_token(alice)
    Token.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert results(root_client.get(TOKENS, {"expired": "yes"})) == [expired]
    assert fresh in results(root_client.get(TOKENS, {"expired": "no"}))
    assert expired not in results(root_client.get(TOKENS, {"expired": "no"}))


def test_device_admin__search_by_hyphenated_uuid_and_username(root_client, alice, bob):
    device, _ = services.register_device(None, alice, DEVICE_UUID)
    services.register_device(None, bob, "ffffffff-5d0c-4c1e-9d2e-6f3f1c1d2a10")
    assert results(root_client.get(DEVICES, {"q": DEVICE_UUID})) == [device]
    assert results(root_client.get(DEVICES, {"q": DEVICE_UUID.upper()})) == [device]
    assert results(root_client.get(DEVICES, {"q": "alice"})) == [device]


def test_device_admin__filter_active(root_client, alice):
    device, _ = services.register_device(None, alice, DEVICE_UUID)
    other, _ = services.register_device(None, alice, "other-device")
    services.deactivate_device(other)
    assert results(root_client.get(DEVICES, {"is_active__exact": "1"})) == [device]
    assert results(root_client.get(DEVICES, {"is_active__exact": "0"})) == [other]


def test_takeover_admin__search_and_filters(root_client, alice, bob, utc):
    bobs_token, _ = issue_token(bob)
    second = start_takeover(bobs_token, UserFactory(username="carol"))
    end_takeover(bobs_token)
    token, _ = issue_token(alice)
    first = start_takeover(token, bob, ip="10.0.0.9")
    assert results(root_client.get(TAKEOVERS, {"q": "10.0.0.9"})) == [first]
    assert set(results(root_client.get(TAKEOVERS, {"q": "bob"}))) == {first, second}
    assert results(root_client.get(TAKEOVERS, {"is_active__exact": "0"})) == [second]
    assert results(root_client.get(TAKEOVERS, {"end_reason": "released"})) == [second]
    year = timezone.now().year
    assert set(results(root_client.get(TAKEOVERS, {"created_at__year": year}))) == {first, second}


# No add form; name-only saves.


@pytest.mark.parametrize("url", [TOKENS, DEVICES, TAKEOVERS])
def test_admin__add_form_forbidden(root_client, url):
    assert root_client.get(f"{url}add/").status_code == 403
    assert root_client.post(f"{url}add/", {"name": "x"}).status_code == 403
    assert f'href="{url}add/"' not in root_client.get(url).content.decode()


def test_token_admin__save_changes_name_only(root_client, alice, bob):
    token, _ = issue_token(alice)
    services.revoke(token)
    before = Token.objects.get(pk=token.pk)
    response = root_client.post(
        f"{TOKENS}{token.pk}/change/",
        {
            "name": "Laptop",
            "is_active": "on",
            "user": bob.pk,
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
            "ip": "10.9.9.9",
            "key": "1$" + "0" * 64,
        },
    )
    assert response.status_code == 302
    after = Token.objects.get(pk=token.pk)
    assert after.name == "Laptop"
    assert (after.is_active, after.user_id, after.expires_at, after.ip, after.key) == (
        False,
        alice.pk,
        before.expires_at,
        None,
        before.key,
    )


def test_token_admin__save_does_not_revive_token_revoked_meanwhile(root_client, alice, monkeypatch):
    """The token is revoked between the admin's read and its save: only the name is written."""
    token, _ = issue_token(alice)
    get_object = TokenAdmin.get_object

    def read_then_revoke(self, request, object_id, from_field=None):
        obj = get_object(self, request, object_id, from_field)
        services.revoke(Token.objects.get(pk=obj.pk))
        return obj

    monkeypatch.setattr(TokenAdmin, "get_object", read_then_revoke)
    response = root_client.post(f"{TOKENS}{token.pk}/change/", {"name": "Laptop"})
    assert response.status_code == 302
    after = Token.objects.get(pk=token.pk)
    assert (after.name, after.is_active) == ("Laptop", False)


def test_device_admin__save_changes_name_only(root_client, alice, bob):
    device, _ = services.register_device(None, alice, DEVICE_UUID)
    services.deactivate_device(device)
    response = root_client.post(
        f"{DEVICES}{device.pk}/change/",
        {"name": "Work phone", "is_active": "on", "user": bob.pk, "uuid": "other", "login_token": "x"},
    )
    assert response.status_code == 302
    after = DeviceKey.objects.get(pk=device.pk)
    assert (after.name, after.is_active, after.user_id, after.uuid, after.login_token) == (
        "Work phone",
        False,
        alice.pk,
        device.uuid,
        device.login_token,
    )


# Actions.


def test_token_admin__revoke_action(root_client, alice, bob, revocations):
    first, _ = issue_token(alice)
    second, _ = issue_token(bob)
    kept, _ = issue_token(bob)
    response = root_client.post(
        TOKENS, {"action": "revoke_selected", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    assert set(Token.objects.filter(is_active=False).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Token.objects.get(pk=kept.pk).is_active
    assert sorted(revocations) == sorted([(first.pk, "revoked"), (second.pk, "revoked")])
    assert messages_of(response) == ["2 tokens were revoked."]


def test_token_admin__revoke_action_counts_only_active_tokens(root_client, alice, revocations):
    active, _ = issue_token(alice)
    revoked, _ = issue_token(alice)
    services.revoke(revoked)
    revocations.clear()
    response = root_client.post(
        TOKENS, {"action": "revoke_selected", "_selected_action": [active.pk, revoked.pk]}
    )
    assert revocations == [(active.pk, "revoked")]
    assert messages_of(response) == ["1 token was revoked."]


def test_token_admin__revoke_action_ends_takeover(root_client, alice, bob):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    root_client.post(TOKENS, {"action": "revoke_selected", "_selected_action": [token.pk]})
    takeover.refresh_from_db()
    assert (takeover.is_active, takeover.end_reason) == (False, "token_revoked")
    assert Token.objects.get(pk=token.pk).active_takeover is None


def test_token_admin__revoke_action_needs_change_permission(alice):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(_permission("view_token"))
    client = Client()
    client.force_login(viewer)
    token, _ = issue_token(alice)
    assert 'value="revoke_selected"' not in client.get(TOKENS).content.decode()
    client.post(TOKENS, {"action": "revoke_selected", "_selected_action": [token.pk]})
    assert Token.objects.get(pk=token.pk).is_active


def test_token_admin__delete_revokes_first(root_client, alice, bob, revocations):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    response = root_client.post(f"{TOKENS}{token.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(pk=token.pk).exists()
    assert revocations == [(token.pk, "deleted")]
    takeover.refresh_from_db()
    assert (takeover.is_active, takeover.end_reason) == (False, "token_revoked")


def test_token_admin__delete_action_revokes_first(root_client, alice, revocations, monkeypatch):
    first, _ = issue_token(alice)
    second, _ = issue_token(alice)
    invalidated = []
    monkeypatch.setattr(
        "auth_token.cache.invalidate_tokens", lambda keys, **kw: invalidated.append(sorted(keys))
    )
    response = root_client.post(
        TOKENS, {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Token.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert sorted(revocations) == sorted([(first.pk, "deleted"), (second.pk, "deleted")])
    assert invalidated == [sorted([first.key, second.key])]  # once for the selection


def test_device_admin__deactivate_action(root_client, alice, bob, revocations):
    device, _ = services.register_device(None, alice, DEVICE_UUID)
    other, _ = services.register_device(None, bob, DEVICE_UUID)
    minted, _ = issue_token(alice, device=device)
    unrelated, _ = issue_token(alice)
    response = root_client.post(DEVICES, {"action": "deactivate_selected", "_selected_action": [device.pk]})
    assert response.status_code == 302
    assert not DeviceKey.objects.get(pk=device.pk).is_active
    assert DeviceKey.objects.get(pk=other.pk).is_active
    assert not Token.objects.get(pk=minted.pk).is_active
    assert Token.objects.get(pk=unrelated.pk).is_active
    assert revocations == [(minted.pk, "device_deactivated")]
    assert messages_of(response) == ["1 device was deactivated."]


def test_device_admin__delete_revokes_its_tokens(root_client, alice, revocations):
    device, _ = services.register_device(None, alice, DEVICE_UUID)
    minted, _ = issue_token(alice, device=device)
    response = root_client.post(f"{DEVICES}{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not DeviceKey.objects.filter(pk=device.pk).exists()
    assert not Token.objects.get(pk=minted.pk).is_active
    assert revocations == [(minted.pk, "device_deactivated")]


# The takeover audit log is view only.


def test_takeover_admin__view_only(root_client, alice, bob, utc):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    url = f"{TAKEOVERS}{takeover.pk}/change/"
    response = root_client.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in response.content.decode()
    assert root_client.post(url, {"reason": "edited", "is_active": ""}).status_code == 403
    assert root_client.get(f"{TAKEOVERS}{takeover.pk}/delete/").status_code == 403
    assert root_client.post(f"{TAKEOVERS}{takeover.pk}/delete/", {"post": "yes"}).status_code == 403
    assert 'value="delete_selected"' not in root_client.get(TAKEOVERS).content.decode()
    root_client.post(
        TAKEOVERS, {"action": "delete_selected", "_selected_action": [takeover.pk], "post": "yes"}
    )
    takeover.refresh_from_db()
    assert (takeover.reason, takeover.is_active) == ("", True)


def test_takeover_admin__changelist_in_default_time_zone(root_client, alice, bob):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    response = root_client.get(TAKEOVERS)
    assert response.status_code == 200
    assert results(response) == [takeover]
    # The date filter works without the database's time zone tables (MariaDB often lacks them).
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today_link = {"created_at__gte": str(today), "created_at__lt": str(today + timedelta(days=1))}
    response = root_client.get(TAKEOVERS, today_link)
    assert response.status_code == 200
    assert results(response) == [takeover]


def test_takeover_admin__row_outlives_token_and_users(root_client, alice, bob):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    token.delete()
    alice.delete()
    bob.delete()
    response = root_client.get(f"{TAKEOVERS}{takeover.pk}/change/")
    assert response.status_code == 200
    assert "alice" in response.content.decode()


def test_takeover_admin__deleting_actor_ends_takeover(root_client, alice, bob):
    token, _ = issue_token(alice)
    takeover = start_takeover(token, bob)
    assert root_client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Token.objects.filter(pk=token.pk).exists()
    takeover.refresh_from_db()
    assert (takeover.is_active, takeover.end_reason) == (False, "token_revoked")


# The user admin patch and auth_token.W006.


def _permission(codename):
    from django.contrib.auth.models import Permission

    return Permission.objects.get(codename=codename, content_type__app_label="auth_token")


def test_patch_user_admin__site_user_admin_is_patched():
    model_admin = admin.site.get_model_admin(User)
    assert isinstance(model_admin, TakeoverUserAdminMixin)
    assert isinstance(model_admin, UserAdmin)
    assert type(model_admin).__name__ == "TakeoverUserAdmin"


def test_patch_user_admin__fresh_site():
    site = admin.AdminSite(name="fresh")
    site.register(User, UserAdmin)
    patch_user_admin(site)
    patched = type(site.get_model_admin(User))
    assert patched.__mro__[1:3] == (TakeoverUserAdminMixin, UserAdmin)
    patch_user_admin(site)  # already has the mixin: left alone
    assert type(site.get_model_admin(User)) is patched


def test_patch_user_admin__off_or_unregistered(settings):
    site = admin.AdminSite(name="fresh")
    patch_user_admin(site)
    assert not site.is_registered(User)
    site.register(User, UserAdmin)
    settings.AUTH_TOKEN_TAKEOVER_USER_ADMIN = False
    patch_user_admin(site)
    assert type(site.get_model_admin(User)) is UserAdmin


def test_check_user_admin__patched_site_is_clean():
    assert auth_checks.check_user_admin() == []


def test_check_user_admin__unpatched_admin(monkeypatch):
    monkeypatch.setitem(admin.site._registry, User, UserAdmin(User, admin.site))
    assert auth_checks.check_user_admin() == [auth_checks.W006]
    assert auth_checks.W006 in checks.run_checks(tags=[checks.Tags.admin])


def test_check_user_admin__unregistered_user_model(monkeypatch):
    monkeypatch.delitem(admin.site._registry, User)
    assert auth_checks.check_user_admin() == [auth_checks.W006]


def test_check_user_admin__own_mixin_admin_is_clean(monkeypatch):
    class MyUserAdmin(TakeoverUserAdminMixin, UserAdmin):
        pass

    monkeypatch.setitem(admin.site._registry, User, MyUserAdmin(User, admin.site))
    assert auth_checks.check_user_admin() == []


def test_check_user_admin__silenced_by_setting(settings, monkeypatch):
    monkeypatch.setitem(admin.site._registry, User, UserAdmin(User, admin.site))
    settings.AUTH_TOKEN_TAKEOVER_USER_ADMIN = False
    assert auth_checks.check_user_admin() == []


def test_check_user_admin__admin_not_installed(settings, monkeypatch):
    monkeypatch.setitem(admin.site._registry, User, UserAdmin(User, admin.site))
    monkeypatch.setattr(auth_checks.wiring.apps, "is_installed", lambda name: name != "django.contrib.admin")
    assert auth_checks.check_user_admin() == []


@pytest.mark.parametrize("settings_module", ["tests.settings", "tests.settings_auth_token_first"])
def test_user_admin__extended_whatever_the_order_of_installed_apps(settings_module):
    """In a fresh process, as ``manage.py`` starts: the admin is extended once apps are ready."""
    script = (
        "import django; django.setup()\n"
        "from django.contrib import admin; from django.contrib.auth import get_user_model\n"
        "from django.core import checks\n"
        "from auth_token.admin import TakeoverUserAdminMixin\n"
        "assert isinstance(admin.site.get_model_admin(get_user_model()), TakeoverUserAdminMixin)\n"
        "found = [m.id for m in checks.run_checks(tags=[checks.Tags.admin])]\n"
        "assert 'auth_token.W006' not in found, found\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "DB": "sqlite"}
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-W",
            "error::PendingDeprecationWarning",
            "-c",
            script,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
