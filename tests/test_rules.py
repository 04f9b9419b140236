"""The shared rules (auth_token.rules), each on its own."""

import pytest

from auth_token import rules
from auth_token.rules import HashMatch


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

    assert rules.session_hash_match("", Minimal()) is HashMatch.CURRENT
