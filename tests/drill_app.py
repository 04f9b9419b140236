"""The site of the fault drill (tests/test_fault_drill.py), served by gunicorn.

The drill passes the test database's name, the token cache and whether the local layer is on in
the environment. Each response names the worker that made it (``X-Worker``), so the drill can
tell that every process refuses a revoked token.
"""

import json
import os

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"

from tests import settings  # completed below, before Django reads them

settings.DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
settings.CACHES = json.loads(os.environ["TEST_CACHES"])
settings.AUTH_TOKEN_CACHE = "tokens"
settings.AUTH_TOKEN_LOCAL_CACHE = os.environ["TEST_LOCAL_CACHE"] == "1"
settings.ALLOWED_HOSTS = ["127.0.0.1"]

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()
WORKER = str(os.getpid())


def application(environ, start_response):
    def named_start_response(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker", WORKER)], exc_info)

    return django_application(environ, named_start_response)
