"""The takeover audit row is closed by every path that ends its token, with that path's reason.

Logout-all from the actor's other device, MAX_TOKENS_PER_USER eviction, the
actor's password change and expiry ended the token but left the row ``is_active=True`` and
``ended_at=None``; ``cleartokens`` later closed it with the wrong time and reason.
"""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from auth_token import services
from auth_token.models import Token, UserTokenTakeover
from auth_token.test import Client
from tests.factories import issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def taken_over(staff, alice):
    """The staff browser's token, acting as alice."""
    client = Client()
    token = client.force_login(staff)
    services.takeover(client.get("/me/").wsgi_request, alice)
    token.refresh_from_db()
    return token


def assert_closed(token, reason, takeover_ends, ended_at=None):
    record = UserTokenTakeover.objects.get()
    token.refresh_from_db()
    assert token.active_takeover is None
    assert (record.is_active, record.end_reason) == (False, reason)
    assert record.ended_at is not None
    if ended_at is not None:
        assert record.ended_at == ended_at
    assert takeover_ends == [(record.pk, reason)]


def test_logout_all_from_another_device(taken_over, staff, takeover_ends):
    other, _ = issue_token(staff)
    services.logout_all(staff, keep=other)
    assert_closed(taken_over, "logout_all", takeover_ends)


def test_token_limit_eviction(settings, taken_over, staff, takeover_ends):
    settings.AUTH_TOKEN_MAX_TOKENS_PER_USER = 1
    issue_token(staff)
    assert_closed(taken_over, "limit", takeover_ends)


def test_actor_password_change(taken_over, staff, takeover_ends):
    staff.set_password("N3w-secret-pass")
    staff.save()
    assert_closed(taken_over, "password_changed", takeover_ends)


def test_target_password_change(taken_over, alice, takeover_ends):
    alice.set_password("N3w-secret-pass")
    alice.save()
    assert_closed(taken_over, "target_changed", takeover_ends)


def test_revoked_from_the_sessions_page(taken_over, staff, takeover_ends):
    client = Client()
    client.force_login(staff)
    response = client.post(f"/auth/sessions/{taken_over.public_id}/revoke/")
    assert response.status_code == 302
    assert_closed(taken_over, "token_revoked", takeover_ends)


def test_expiry_closed_by_cleartokens_at_the_expiry(taken_over, takeover_ends):
    with time_machine.travel(taken_over.expires_at + timedelta(days=3)):
        call_command("cleartokens", stdout=io.StringIO())
    record = UserTokenTakeover.objects.get()
    assert not Token.objects.exists()
    assert (record.is_active, record.end_reason, record.ended_at) == (False, "expired", taken_over.expires_at)
    assert takeover_ends == [(record.pk, "expired")]


def test_every_end_keeps_the_invariant(taken_over, staff):
    """``is_active`` is True exactly while ``Token.active_takeover`` points at the row."""
    services.logout_all(staff)
    active = set(UserTokenTakeover.objects.filter(is_active=True).values_list("pk", flat=True))
    pointed = set(Token.objects.exclude(active_takeover=None).values_list("active_takeover_id", flat=True))
    assert active == pointed == set()


def test_cleartokens__never_deletes_audit_rows(taken_over, staff):
    services.logout_all(staff)
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        call_command("cleartokens", stdout=io.StringIO())
    assert UserTokenTakeover.objects.count() == 1
