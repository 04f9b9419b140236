"""pytest fixtures for projects that test with pytest-django.

Enable them with ``pytest_plugins = ["auth_token.pytest_plugin"]`` in a ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auth_token.test import AsyncClient, Client, bearer_client


@pytest.fixture
def token_client() -> Client:
    """A test client whose login methods make token sessions."""
    return Client()


@pytest.fixture
def async_token_client() -> AsyncClient:
    return AsyncClient()


@pytest.fixture
def api_client_factory(db) -> Callable[..., Client]:
    """Return ``make(user, **login_options)``: a client authenticated by a Bearer header."""
    return bearer_client
