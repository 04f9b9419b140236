"""The shared rules (auth_token.rules), each on its own."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from auth_token import rules
from auth_token.models import COOKIE, HEADER
from auth_token.reasons import TakeoverEndReason
from auth_token.rules import HashMatch
from tests.factories import UserFactory, issue_token, start_takeover

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def test_session_hash__current_password_and_key(alice):
    assert rules.session_hash_match(alice.get_session_auth_hash(), alice) is HashMatch.CURRENT
    assert rules.session_hash_matches(alice.get_session_auth_hash(), alice)


def test_session_hash__retired_key_listed_in_fallbacks(alice, settings):
    stored = alice.get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert rules.session_hash_match(stored, alice) is HashMatch.RETIRED_KEY
    assert rules.session_hash_matches(stored, alice)


def test_session_hash__retired_key_no_longer_listed(alice, settings):
    stored = alice.get_session_auth_hash()
    settings.SECRET_KEY = "a-new-secret-key-for-tests"
    assert rules.session_hash_match(stored, alice) is HashMatch.NONE
    assert not rules.session_hash_matches(stored, alice)


def test_session_hash__another_password(alice):
    stored = alice.get_session_auth_hash()
    alice.set_password("a different password")
    assert rules.session_hash_match(stored, alice) is HashMatch.NONE


@pytest.mark.parametrize("stored", ["", "garbage", "0" * 64])
def test_session_hash__garbage(alice, stored):
    assert rules.session_hash_match(stored, alice) is HashMatch.NONE


def test_session_hash__user_model_without_hashes():
    class Minimal:
        pass

    assert rules.session_hash_of(Minimal()) == ""
    assert rules.session_hash_match("", Minimal()) is HashMatch.CURRENT


def test_session_hash_of__what_new_credentials_store(alice):
    assert rules.session_hash_of(alice) == alice.get_session_auth_hash()
    assert rules.session_hash_match(rules.session_hash_of(alice), alice) is HashMatch.CURRENT


# Token validity


@pytest.mark.parametrize(
    ("source", "allowed_cookie", "allowed_header", "accepted"),
    [
        (HEADER, True, True, True),
        (HEADER, True, False, False),
        (COOKIE, True, False, True),
        (COOKIE, False, True, False),
    ],
)
def test_token_accepts__source_allowed(alice, source, allowed_cookie, allowed_header, accepted):
    token, _ = issue_token(alice, allowed_cookie=allowed_cookie, allowed_header=allowed_header)
    assert rules.token_accepts(token, source) is accepted


def test_token_accepts__inactive_user_refused(alice):
    token, _ = issue_token(alice)
    alice.is_active = False
    assert not rules.token_accepts(token, HEADER)


def test_user_can_authenticate__backend_no_longer_configured(alice, settings):
    assert rules.user_can_authenticate(alice, MODEL_BACKEND)
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    assert not rules.user_can_authenticate(alice, MODEL_BACKEND)


def test_user_can_authenticate__the_backends_own_rule(alice, settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    alice.is_active = False
    assert rules.user_can_authenticate(alice, "django.contrib.auth.backends.AllowAllUsersModelBackend")
    assert not rules.user_can_authenticate(None, "django.contrib.auth.backends.AllowAllUsersModelBackend")


def test_token_is_live(alice):
    token, _ = issue_token(alice)
    assert rules.token_is_live(token)
    token.expires_at = timezone.now()
    assert not rules.token_is_live(token)
    token.expires_at, token.is_active = timezone.now() + timedelta(minutes=1), False
    assert not rules.token_is_live(token)


# Takeovers: the full rule


@pytest.mark.parametrize(
    ("actor_fields", "target_fields", "refused"),
    [
        ({"is_staff": True}, {}, None),
        ({"is_staff": False}, {}, "Only active staff can take over users."),
        ({"is_staff": True, "is_active": False}, {}, "Only active staff can take over users."),
        ({"is_staff": True}, {"is_active": False}, "An inactive user cannot be taken over."),
        ({"is_staff": True}, {"is_superuser": True}, "Only a superuser can take over a superuser."),
        ({"is_staff": True, "is_superuser": True}, {"is_superuser": True, "is_staff": True}, None),
    ],
)
def test_takeover_refusal__fixed_rules_then_permission(db, actor_fields, target_fields, refused):
    actor = UserFactory(username="actor", **actor_fields)
    actor.user_permissions.add(Permission.objects.get(codename="takeover_user"))
    target = UserFactory(username="target", **target_fields)
    assert rules.takeover_refusal(actor, target) == refused


def test_takeover_refusal__oneself(staff):
    assert rules.takeover_refusal(staff, staff) == "You cannot take over yourself."


def test_takeover_refusal__without_the_permission(db, alice):
    actor = UserFactory(username="actor", is_staff=True)
    assert rules.takeover_refusal(actor, alice) == "You do not have permission to take over this user."


def test_takeover_refusal__target_with_a_permission_the_actor_lacks(staff, alice):
    alice.user_permissions.add(Permission.objects.get(codename="change_user"))
    assert rules.lends_privileges(actor=staff, target=alice)
    assert rules.takeover_refusal(staff, alice) == "This user has permissions that you do not have."


def test_takeover_refusal__project_rule_replaces_the_permission_not_the_fixed_rules(db, alice, settings):
    actor = UserFactory(username="actor", is_staff=True)  # no permission
    settings.AUTH_TOKEN_TAKEOVER_PERMISSION = lambda *, actor, target: True
    assert rules.takeover_refusal(actor, alice) is None
    assert rules.takeover_refusal(actor, actor) == "You cannot take over yourself."


# Takeovers: does one still hold?


@pytest.fixture
def record(staff, alice):
    token, _ = issue_token(staff)
    return start_takeover(token, alice)


def test_takeover_end_reason__holds(record, staff):
    assert rules.takeover_end_reason(record, staff) is None
    assert rules.takeover_holds(record, staff)


@pytest.mark.parametrize(
    "change",
    [
        lambda target: setattr(target, "is_active", False),
        lambda target: target.set_password("another password"),
    ],
    ids=["deactivated", "password-changed"],
)
def test_takeover_end_reason__target_changed(record, staff, change):
    change(record.user)
    assert rules.takeover_end_reason(record, staff) is TakeoverEndReason.TARGET_CHANGED
    assert not rules.takeover_holds(record, staff)


def test_takeover_end_reason__target_deleted(record, staff):
    record.user = None
    assert rules.takeover_end_reason(record, staff) is TakeoverEndReason.TARGET_CHANGED


def test_takeover_end_reason__actor_no_longer_staff(record, staff):
    staff.is_staff = False
    assert rules.takeover_end_reason(record, staff) is TakeoverEndReason.PERMISSION
    assert not rules.takeover_holds(record, staff)


def test_takeover_end_reason__permission_withdrawn_only_the_full_rule_sees(record, staff):
    staff.user_permissions.clear()
    staff = type(staff).objects.get(pk=staff.pk)  # no cached permissions
    assert rules.takeover_end_reason(record, staff) is TakeoverEndReason.PERMISSION
    # The per-request check reads no permission (no query): renewal applies the full rule.
    assert rules.takeover_holds(record, staff)
