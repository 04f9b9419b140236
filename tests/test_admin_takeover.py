"""Taking over a user from the user admin (TakeoverUserAdminMixin): the button, its URL and the action.

Driven through the admin with token sessions (``auth_token.test.Client``); the outcome is read from
the token, the audit rows and the next request's ``request.user`` (``/me/``).
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages

from auth_token.admin import TakeoverUserAdminMixin
from auth_token.models import UserTokenTakeover
from auth_token.test import Client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
USERS = "/admin/auth/user/"
ALLOWED, REFUSED, LOGIN = "allowed", "refused", "login"
ROLES = {
    "superuser": {"is_staff": True, "is_superuser": True},
    "staff_with_permission": {"is_staff": True},
    "staff": {"is_staff": True},
    "normal": {},
    "inactive": {"is_active": False},
    # Rights that acting as the user would lend to an actor who lacks them.
    "staff_with_change_user": {"is_staff": True},
    "staff_in_editors_group": {"is_staff": True},
    "staff_with_both": {"is_staff": True},
}


def allow_everyone(*, actor, target):
    return True


def allow_nobody(*, actor, target):
    return False


def make_user(role, username):
    user = UserFactory(username=username, **ROLES[role])
    if role in ("staff_with_permission", "staff_with_both"):
        user.user_permissions.add(Permission.objects.get(codename="takeover_user"))
    if role in ("staff_with_change_user", "staff_with_both"):
        user.user_permissions.add(Permission.objects.get(codename="change_user"))
    if role == "staff_in_editors_group":
        editors, _ = Group.objects.get_or_create(name="editors")
        editors.permissions.add(Permission.objects.get(codename="change_user"))
        user.groups.add(editors)
    return user


def logged_in(user, **client_options):
    client = Client(**client_options)
    token = client.force_login(user)
    return client, token


def takeover_url(user):
    return f"{USERS}{user.pk}/takeover/"


def change_url(user):
    return f"{USERS}{user.pk}/change/"


def messages_of(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def acting_as(client):
    return client.get("/me/").json()["user"]


def assert_took_over(client, token, actor, target):
    token.refresh_from_db()
    record = UserTokenTakeover.objects.get()
    assert token.active_takeover == record
    assert (record.actor, record.user, record.is_active) == (actor, target, True)
    assert (record.actor_repr, record.user_repr) == (actor.get_username(), target.get_username())
    assert acting_as(client) == target.get_username()


def assert_no_takeover(client, token, actor):
    token.refresh_from_db()
    assert token.active_takeover is None
    assert not UserTokenTakeover.objects.exists()
    assert acting_as(client) == actor.get_username()


# Actor x target. "self" is the actor; every other target is a second user with that role.
MATRIX = [
    ("superuser", "self", REFUSED),
    ("superuser", "superuser", ALLOWED),
    ("superuser", "staff", ALLOWED),
    ("superuser", "normal", ALLOWED),
    ("superuser", "inactive", REFUSED),
    ("staff_with_permission", "self", REFUSED),
    ("staff_with_permission", "superuser", REFUSED),
    ("staff_with_permission", "staff", ALLOWED),
    ("staff_with_permission", "normal", ALLOWED),
    ("staff_with_permission", "inactive", REFUSED),
    # A target holding a permission the actor lacks would lend it to the actor.
    ("staff_with_permission", "staff_with_change_user", REFUSED),
    ("staff_with_permission", "staff_in_editors_group", REFUSED),
    ("staff_with_permission", "staff_with_permission", ALLOWED),
    ("staff_with_both", "staff_with_change_user", ALLOWED),
    ("staff_with_both", "staff_in_editors_group", ALLOWED),
    ("staff_with_both", "staff_with_permission", ALLOWED),
    ("superuser", "staff_with_change_user", ALLOWED),
    ("staff", "self", REFUSED),
    ("staff", "superuser", REFUSED),
    ("staff", "staff", REFUSED),
    ("staff", "normal", REFUSED),
    ("staff", "inactive", REFUSED),
    ("normal", "self", LOGIN),
    ("normal", "superuser", LOGIN),
    ("normal", "staff", LOGIN),
    ("normal", "normal", LOGIN),
    ("normal", "inactive", LOGIN),
]


@pytest.mark.parametrize(("actor_role", "target_role", "outcome"), MATRIX)
def test_takeover_view__permission_matrix(actor_role, target_role, outcome):
    actor = make_user(actor_role, "actor")
    target = actor if target_role == "self" else make_user(target_role, "target")
    client, token = logged_in(actor)
    response = client.post(takeover_url(target))
    assert response.status_code == 302
    if outcome == ALLOWED:
        assert response["Location"] == "/"
        assert ("success", "You are now acting as target.") in messages_of(response)
        assert_took_over(client, token, actor, target)
    elif outcome == REFUSED:
        assert response["Location"] == change_url(target)
        assert [level for level, _ in messages_of(response)] == ["error"]
        assert_no_takeover(client, token, actor)
    else:
        assert response["Location"].startswith("/admin/login/?next=")
        assert_no_takeover(client, token, actor)


@pytest.mark.parametrize(("actor_role", "target_role", "outcome"), MATRIX)
def test_change_form__button_follows_matrix(actor_role, target_role, outcome):
    actor = make_user(actor_role, "actor")
    target = actor if target_role == "self" else make_user(target_role, "target")
    actor.user_permissions.add(Permission.objects.get(codename="view_user"))
    client, _ = logged_in(actor)
    response = client.get(change_url(target))
    if outcome == LOGIN:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    shown = f'href="{takeover_url(target)}"' in response.content.decode()
    assert shown is (outcome == ALLOWED)
    assert response.context["takeover_allowed"] is (outcome == ALLOWED)


@pytest.mark.parametrize(
    ("target_role", "message"),
    [
        ("self", "You cannot take over yourself."),
        ("inactive", "An inactive user cannot be taken over."),
        ("superuser", "Only a superuser can take over a superuser."),
        ("staff", "You do not have permission to take over this user."),
        ("staff_with_change_user", "This user has permissions that you do not have."),
    ],
)
def test_takeover_view__refusal_message(target_role, message):
    actor = make_user("staff" if target_role == "staff" else "staff_with_permission", "actor")
    target = actor if target_role == "self" else make_user(target_role, "target")
    client, _ = logged_in(actor)
    response = client.post(takeover_url(target))
    assert messages_of(response) == [("error", message)]


def test_change_form__link_to_a_confirmation_that_posts_with_csrf():
    """The button and the confirmation's form, as a browser follows them: a CSRF-enforcing client
    with the page's token."""
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor, enforce_csrf_checks=True)
    page = client.get(change_url(target)).content.decode()
    link = re.search(r'<a href="([^"]+)" class="takeoverlink">Take over this user</a>', page)
    assert link is not None and link.group(1) == takeover_url(target)
    confirmation = client.get(link.group(1)).content.decode()
    form = re.search(r'<form method="post" id="takeover-form">.*?</form>', confirmation, re.S)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0)).group(1)
    response = client.post(link.group(1), {"csrfmiddlewaretoken": csrf, "reason": "Ticket 7"})
    assert response.status_code == 302
    assert_took_over(client, token, actor, target)
    assert UserTokenTakeover.objects.get().reason == "Ticket 7"


def test_takeover_view__without_csrf_token_403():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor, enforce_csrf_checks=True)
    client.get(change_url(target))  # a CSRF cookie, but no token in the POST
    assert client.post(takeover_url(target)).status_code == 403
    assert_no_takeover(client, token, actor)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_takeover_view__not_get_or_post_405(method):
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    response = getattr(client, method)(takeover_url(target))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert_no_takeover(client, token, actor)


@pytest.mark.parametrize("method", ["get", "head"])
def test_takeover_view__get_asks_for_a_reason_and_changes_nothing(method):
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    response = getattr(client, method)(takeover_url(target), {"next": "/me/"})
    assert response.status_code == 200
    if method == "get":
        page = response.content.decode()
        assert "Take over target" in page
        assert 'name="reason"' in page and "required" not in page.split('name="reason"')[1].split(">")[0]
        assert 'name="next" value="/me/"' in page
        assert f'href="{change_url(target)}"' in page  # "No, take me back"
    assert_no_takeover(client, token, actor)


def test_takeover_view__reason_lands_in_the_audit_record():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    response = client.post(takeover_url(target), {"reason": "  Ticket\n 4711  "})
    assert response.status_code == 302
    assert_took_over(client, token, actor, target)
    assert UserTokenTakeover.objects.get().reason == "Ticket 4711"


def test_takeover_view__required_reason_refused_when_blank(settings):
    settings.AUTH_TOKEN_TAKEOVER_REQUIRE_REASON = True
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    page = client.get(takeover_url(target)).content.decode()
    assert 'name="reason"' in page and "required" in page.split('name="reason"')[1].split(">")[0]
    response = client.post(takeover_url(target), {"reason": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert_no_takeover(client, token, actor)
    client.post(takeover_url(target), {"reason": "Ticket 4711"})
    assert_took_over(client, token, actor, target)


def test_takeover_view__refused_target_never_sees_the_form():
    actor, target = make_user("staff_with_permission", "actor"), make_user("superuser", "target")
    client, token = logged_in(actor)
    response = client.get(takeover_url(target))
    assert response["Location"] == change_url(target)
    assert messages_of(response) == [("error", "Only a superuser can take over a superuser.")]
    assert_no_takeover(client, token, actor)


@pytest.mark.parametrize(
    "object_id", ["abc", "0", "-1", "99999999999999999999999", "%00", "1%2F2", "%C3%A9", "1.5"]
)
def test_takeover_view__garbage_id_404(object_id):
    actor = make_user("superuser", "actor")
    client, token = logged_in(actor)
    response = client.post(f"{USERS}{object_id}/takeover/")
    assert response.status_code == 404
    assert_no_takeover(client, token, actor)


def test_takeover_view__unknown_id_after_deletion_404():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    url = takeover_url(target)
    target.delete()
    client, _ = logged_in(actor)
    assert client.post(url).status_code == 404


def test_takeover_view__nested_refused():
    actor = make_user("superuser", "actor")
    first, second = make_user("staff_with_permission", "first"), make_user("normal", "second")
    client, token = logged_in(actor)
    client.post(takeover_url(first))
    # Now acting as "first", who may use the admin and take over users, but not on this token.
    response = client.post(takeover_url(second))
    assert response["Location"] == change_url(second)
    # The first takeover's success message was never displayed, so it is still queued.
    assert [message for message in messages_of(response) if message[0] == "error"] == [
        ("error", "Release the current takeover first.")
    ]
    token.refresh_from_db()
    assert token.active_takeover.user == first
    assert UserTokenTakeover.objects.count() == 1
    assert acting_as(client) == "first"
    assert 'class="takeoverlink"' not in client.get(change_url(second)).content.decode()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example", "http://testserver.evil.example/", "\\\\evil"]
)
def test_takeover_view__unsafe_next_ignored(settings, next_url):
    settings.AUTH_TOKEN_TAKEOVER_REDIRECT_URL = "me"
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    response = client.post(takeover_url(target), {"next": next_url})
    assert response["Location"] == "/me/"
    assert_took_over(client, token, actor, target)


@pytest.mark.parametrize("next_url", ["/me/?x=1", "http://testserver/me/"])
def test_takeover_view__safe_next_followed(next_url):
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, _ = logged_in(actor)
    assert client.post(takeover_url(target), {"next": next_url})["Location"] == next_url
    assert client.post(f"{takeover_url(target)}?next=/me/")["Location"] != "/me/"  # nested: refused


def test_takeover_view__next_in_query_string():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, _ = logged_in(actor)
    assert client.post(f"{takeover_url(target)}?next=/me/")["Location"] == "/me/"


def test_takeover_view__https_next_needs_https_request():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, _ = logged_in(actor)
    response = client.post(takeover_url(target), {"next": "http://testserver/me/"}, secure=True)
    assert response["Location"] == "/"


# The action.


def test_takeover_action__one_user_goes_to_the_confirmation():
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    response = client.post(USERS, {"action": "takeover_user", "_selected_action": [target.pk]})
    assert response.status_code == 302
    assert response["Location"] == takeover_url(target)
    assert_no_takeover(client, token, actor)
    assert client.post(response["Location"], {"reason": "Ticket 1"})["Location"] == "/"
    assert_took_over(client, token, actor, target)


def test_takeover_action__two_users_refused():
    actor = make_user("superuser", "actor")
    first, second = make_user("normal", "first"), make_user("normal", "second")
    client, token = logged_in(actor)
    response = client.post(USERS, {"action": "takeover_user", "_selected_action": [first.pk, second.pk]})
    assert response.status_code == 302
    assert response["Location"] == USERS
    assert messages_of(response) == [("error", "Select exactly one user to take over.")]
    assert_no_takeover(client, token, actor)


def test_takeover_action__refused_target():
    actor, target = make_user("staff_with_permission", "actor"), make_user("superuser", "target")
    actor.user_permissions.add(Permission.objects.get(codename="view_user"))
    client, token = logged_in(actor)
    response = client.post(USERS, {"action": "takeover_user", "_selected_action": [target.pk]})
    assert response["Location"] == USERS
    assert messages_of(response) == [("error", "Only a superuser can take over a superuser.")]
    assert_no_takeover(client, token, actor)


@pytest.mark.parametrize(
    ("role", "offered"), [("superuser", True), ("staff_with_permission", True), ("staff", False)]
)
def test_takeover_action__offered_only_with_permission(role, offered):
    actor = make_user(role, "actor")
    actor.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    target = make_user("normal", "target")
    client, _ = logged_in(actor)
    page = client.get(USERS).content.decode()
    assert ('value="takeover_user"' in page) is offered
    response = client.post(USERS, {"action": "takeover_user", "_selected_action": [target.pk]})
    assert (response.get("Location") == takeover_url(target)) is offered


def test_takeover_action__offered_with_custom_permission(settings):
    settings.AUTH_TOKEN_TAKEOVER_PERMISSION = allow_everyone
    actor = make_user("staff", "actor")
    actor.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert 'value="takeover_user"' in logged_in(actor)[0].get(USERS).content.decode()


def test_takeover_action__not_in_popup():
    client, _ = logged_in(make_user("superuser", "actor"))
    assert 'value="takeover_user"' not in client.get(USERS, {"_popup": "1"}).content.decode()


def test_takeover_action__joins_the_admins_own_actions_unless_they_are_off(rf):
    class WithActions(TakeoverUserAdminMixin, UserAdmin):
        actions = ("delete_selected",)

    class WithoutActions(TakeoverUserAdminMixin, UserAdmin):
        actions = None

    request = rf.get(USERS)
    request.user = make_user("superuser", "actor")
    user_model = get_user_model()
    offered = WithActions(user_model, admin.site).get_actions(request)
    assert list(offered) == ["delete_selected", "takeover_user"]
    assert WithoutActions(user_model, admin.site).get_actions(request) == {}


# A custom TAKEOVER_PERMISSION replaces the permission rule, not the fixed rules.


CUSTOM_MATRIX = [
    ("staff", allow_everyone, "normal", ALLOWED),
    ("staff", allow_everyone, "staff", ALLOWED),
    ("staff", allow_everyone, "self", REFUSED),
    ("staff", allow_everyone, "inactive", REFUSED),
    ("staff", allow_everyone, "superuser", REFUSED),
    ("superuser", allow_nobody, "normal", REFUSED),
    ("staff_with_permission", allow_nobody, "normal", REFUSED),
]


@pytest.mark.parametrize("as_path", [False, True], ids=["callable", "dotted_path"])
@pytest.mark.parametrize(("actor_role", "rule", "target_role", "outcome"), CUSTOM_MATRIX)
def test_takeover_view__custom_permission(settings, actor_role, rule, target_role, outcome, as_path):
    settings.AUTH_TOKEN_TAKEOVER_PERMISSION = f"{__name__}.{rule.__name__}" if as_path else rule
    actor = make_user(actor_role, "actor")
    target = actor if target_role == "self" else make_user(target_role, "target")
    client, token = logged_in(actor)
    response = client.post(takeover_url(target))
    if outcome == ALLOWED:
        assert response["Location"] == "/"
        assert_took_over(client, token, actor, target)
    else:
        assert response["Location"] == change_url(target)
        assert_no_takeover(client, token, actor)


def test_takeover__cannot_escalate_to_superuser():
    """Replayed from a review: a staff member whose only right is the takeover permission took
    over a staff member with ``auth.change_user``, then, as them, ticked ``is_superuser`` on the
    target's own account in the admin (the admin history blaming the target)."""
    actor = make_user("staff_with_permission", "actor")
    victim = make_user("staff_with_change_user", "victim")
    client, token = logged_in(actor)

    response = client.post(takeover_url(victim))

    assert messages_of(response) == [("error", "This user has permissions that you do not have.")]
    assert_no_takeover(client, token, actor)
    form = {
        "username": "victim",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    assert client.post(change_url(victim), form).status_code == 403  # the actor lacks change_user
    victim.refresh_from_db()
    actor.refresh_from_db()
    assert not victim.is_superuser and not actor.is_superuser


# Never stranded: where a takeover lands, and the admin's banner with Release.


@pytest.fixture
def no_home(settings):
    settings.ROOT_URLCONF = "tests.urls_without_home"


@pytest.mark.parametrize(
    ("target_role", "landing"), [("normal", "/accounts/sessions/"), ("staff", "/admin/")]
)
def test_takeover__lands_where_the_target_can_be_when_nothing_serves_the_redirect_url(
    no_home, target_role, landing
):
    """Nothing serves "/": a user without the admin lands on the sessions page (its banner offers
    Release), not on the admin's refusal; staff land on the admin's index."""
    actor, target = make_user("superuser", "actor"), make_user(target_role, "target")
    client, _ = logged_in(actor)
    assert client.post(takeover_url(target))["Location"] == landing
    page = client.get(landing, follow=True).content.decode()
    assert "You are acting as target." in page
    # Release lands on the admin's index: the actor is staff.
    assert client.post("/accounts/takeover/release/")["Location"] == "/admin/"


def test_takeover__the_redirect_url_when_it_is_served(settings):
    settings.AUTH_TOKEN_TAKEOVER_REDIRECT_URL = "/me/"
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, _ = logged_in(actor)
    assert client.post(takeover_url(target))["Location"] == "/me/"


def banner_of(response):
    match = re.search(
        r'<form method="post" action="([^"]+)" class="auth-token-takeover">(.*?)</form>',
        response.content.decode(),
        re.S,
    )
    text = re.sub(r'<input type="submit" value="([^"]+)">', r" \1 ", match[2]) if match else ""
    return match and (match[1], re.sub(r"<[^>]+>", " ", text).split())


@pytest.mark.parametrize("target_role", ["normal", "staff"])
def test_admin_banner__on_every_admin_page_during_a_takeover(target_role):
    """A target without the admin sees its login page; one with it, the index: both with Release."""
    actor, target = make_user("superuser", "actor"), make_user(target_role, "target")
    client, _ = logged_in(actor)
    client.post(takeover_url(target))
    page = client.get("/admin/", follow=True)
    assert page.status_code == 200
    assert banner_of(page) == (
        "/auth/takeover/release/",
        ["You", "are", "acting", "as", "target.", "Release"],
    )
    assert 'name="next" value="/admin/' in page.content.decode()
    released = client.post("/auth/takeover/release/", {"next": "/admin/"})
    assert released["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200 and banner_of(page) is None  # the actor again
    assert ("success", "You are yourself again.") in [
        (message.tags, str(message)) for message in page.context["messages"]
    ]


def test_admin_banner__not_without_a_takeover():
    client, _ = logged_in(make_user("superuser", "actor"))
    page = client.get("/admin/")
    assert page.status_code == 200 and banner_of(page) is None
    assert "You are acting as" not in page.content.decode()


def test_admin_banner__escapes_the_users_name():
    actor = make_user("superuser", "actor")
    target = make_user("normal", "target")
    target.username = "<b>eve</b>"
    target.save()
    client, _ = logged_in(actor)
    client.post(takeover_url(target))
    content = client.get("/admin/login/").content.decode()
    assert "You are acting as &lt;b&gt;eve&lt;/b&gt;." in content
    assert "<b>eve</b>" not in content


def test_admin_banner__without_auth_token_urls_the_user_admin_releases(settings):
    settings.ROOT_URLCONF = "tests.urls_admin_only"
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, token = logged_in(actor)
    client.post(takeover_url(target))
    page = client.get("/admin/", follow=True)  # the login page: the target has no admin access
    assert banner_of(page)[0] == "/admin/auth/user/takeover/release/"
    assert client.get("/admin/auth/user/takeover/release/").status_code == 405
    released = client.post("/admin/auth/user/takeover/release/", {"next": "/admin/"})
    assert released["Location"] == "/admin/"
    assert UserTokenTakeover.objects.get().end_reason == "released"
    assert client.get("/admin/").status_code == 200  # the actor again, on the same token
    token.refresh_from_db()
    assert token.is_active and token.active_takeover is None


def test_admin_release__refuses_an_unsafe_next_and_needs_csrf(settings):
    actor, target = make_user("superuser", "actor"), make_user("normal", "target")
    client, _ = logged_in(actor)
    client.post(takeover_url(target))
    released = client.post("/admin/auth/user/takeover/release/", {"next": "https://evil.example/"})
    assert released["Location"] == "/admin/"
    strict, _ = logged_in(actor, enforce_csrf_checks=True)
    assert strict.post("/admin/auth/user/takeover/release/").status_code == 403
