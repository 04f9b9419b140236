import pytest


@pytest.fixture
def live_server():
    """pytest-django's live server, but on 127.0.0.1 only and stopped by the test that started it.

    Overrides the session-wide fixture of the same name (which listens on ``localhost`` unless
    ``--liveserver`` says otherwise); pytest-django still gives the test ``transactional_db`` and
    adds the host to ALLOWED_HOSTS. The system picks a free port.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    try:
        yield server
    finally:
        server.stop()
