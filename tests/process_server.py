"""A Django test server in a process of its own: ``python -m tests.process_server``.

The multi-process tests of the local cache start two of these. The parent passes the test
database's name and the token cache's location in the environment; the server listens once its
local cache layer is subscribed, on 127.0.0.1 only, on a port the OS gives it (printed on a line
of its own), one request at a time, until terminated.
"""

import json
import os
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    from tests import settings

    settings.DATABASES["default"]["NAME"] = os.environ["TEST_DATABASE_NAME"]
    settings.CACHES = json.loads(os.environ["TEST_CACHES"])
    settings.AUTH_TOKEN_CACHE = "tokens"
    settings.AUTH_TOKEN_LOCAL_CACHE = True
    settings.ALLOWED_HOSTS = ["127.0.0.1"]

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from auth_token import local_cache

    layer = local_cache.get_layer()
    deadline = time.monotonic() + 10
    while not layer.ready and time.monotonic() < deadline:  # listen only once subscribed
        time.sleep(0.01)
    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
