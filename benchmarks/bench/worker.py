"""Steps the driver runs in a child process (settings are per process): ``python -m bench.worker``.

``setup``: create the user and one credential per system, print them as JSON.
``inproc``: SQL reads and writes per request (steady state and after the renewal interval) and
requests/s through Django's test client, printed as JSON.
``loop``: the best requests/s of five timed test-client runs (``loop.py``).
``breakdown``: microseconds of the parts of our request (credential, lookup, middleware).
"""

import json
import os
import statistics
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

USERNAME = "bench"
WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE")


def setup() -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from knox.models import AuthToken
    from rest_framework.authtoken.models import Token as DrfToken

    from auth_token import services

    user = get_user_model().objects.create_user(USERNAME, password="bench-password")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    backend = "django.contrib.auth.backends.ModelBackend"
    ours = services.login(None, user, backend=backend, allowed_cookie=False)[1]
    ours_cache = services.login(None, user, backend=backend, allowed_cookie=False)[1]
    ours_local = services.login(None, user, backend=backend, allowed_cookie=False)[1]
    return {
        "none": {},
        "drf": {"header": f"Token {DrfToken.objects.create(user=user).key}"},
        "knox": {"header": f"Token {AuthToken.objects.create(user)[1]}"},
        "knox_refresh": {"header": f"Token {AuthToken.objects.create(user)[1]}"},
        "session": {"cookie": session.session_key},
        "ours": {"header": f"Bearer {ours}"},
        "ours_cache": {"header": f"Bearer {ours_cache}"},
        "ours_local": {"header": f"Bearer {ours_local}"},
    }


class InProcessClient:
    """Django's WSGI handler, called in this process with a fresh environ per request.

    Not ``django.test.Client``: it connects and disconnects signals around every request, and on
    Django 5.2 each connection leaves a ``weakref.finalize`` behind (8 to 12 objects per request),
    so a long loop slows down as garbage collection walks a growing heap (Django 6.x does not).
    The WSGI handler is what a server calls, on every stack alike.
    """

    def __init__(self, credential: dict) -> None:
        headers = {"Authorization": credential["header"]} if "header" in credential else {}
        if "cookie" in credential:
            headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={credential['cookie']}"
        self.factory = RequestFactory(headers=headers)
        self.handler = WSGIHandler()

    def get(self, path: str) -> int:
        """The status code of a GET of ``path``."""
        answer = []
        body = self.handler(self.factory.get(path).environ, lambda status, headers: answer.append(status))
        b"".join(body)
        body.close()  # request_finished, as a server sends it
        return int(answer[0].split()[0])


def make_client(credential: dict) -> InProcessClient:
    return InProcessClient(credential)


def get(client: InProcessClient) -> None:
    status = client.get("/ping/")
    if status != 200:
        raise SystemExit(f"{settings.AUTH}: /ping/ answered {status}")


def count_queries(client: InProcessClient) -> dict:
    with CaptureQueriesContext(connection) as captured:
        get(client)
    statements = [q["sql"].lstrip().upper() for q in captured.captured_queries]
    writes = sum(s.startswith(WRITE_PREFIXES) for s in statements)
    reads = sum(s.startswith("SELECT") for s in statements)
    return {"reads": reads, "writes": writes, "sql": [q["sql"][:300] for q in captured.captured_queries]}


def age_credential(credential: dict) -> None:
    """Make the next request one that comes after the renewal interval (where the system has one)."""
    auth = settings.AUTH
    if auth.startswith("ours"):
        from auth_token import cache as token_cache
        from auth_token import keys
        from auth_token.conf import settings as token_settings
        from auth_token.models import Token

        raw = credential["header"].split(" ", 1)[1]
        digest = keys.digest(raw)
        past = timezone.now() - timedelta(seconds=token_settings.RENEWAL_INTERVAL + 5)
        Token.objects.filter(key=digest).update(last_access=past)
        # A cache entry lives at most RENEWAL_INTERVAL: by now it would have expired.
        token_cache.invalidate_tokens([digest])
    elif auth.startswith("knox"):
        from knox.models import AuthToken
        from knox.settings import CONSTANTS, knox_settings

        key = credential["header"].split(" ", 1)[1][: CONSTANTS.TOKEN_KEY_LENGTH]
        expiry = timezone.now() + knox_settings.TOKEN_TTL - timedelta(minutes=5)
        AuthToken.objects.filter(token_key=key).update(expiry=expiry)


def inproc(credential: dict, requests: int, seconds: float) -> dict:
    client = make_client(credential)
    for _ in range(50):  # warm up: the cache learns the owner, then stores the entry
        get(client)
    steady = count_queries(client)
    age_credential(credential)
    renewal = count_queries(client)
    for _ in range(20):
        get(client)
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done < requests and time.perf_counter() < deadline:
        get(client)
        done += 1
    elapsed = time.perf_counter() - start
    return {"steady": steady, "renewal": renewal, "rps": done / elapsed, "requests": done}


def loop(credential: dict, batches: int = 30, requests: int = 200) -> dict:
    """Requests/s of the median of ``batches`` timed batches, after a warm-up: a batch that met a
    full garbage collection (several ms on Python 3.11 here) or a slow moment does not count."""
    client = make_client(credential)
    for _ in range(300):
        get(client)
    times = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(requests):
            get(client)
        times.append(time.perf_counter() - start)
    return {"rps": requests / statistics.median(times)}


def per_call(action, iterations: int) -> float:
    """Microseconds per call of ``action``, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iterations):
            action()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best * 1e6


def breakdown(credential: dict, iterations: int = 5000) -> dict:
    """Time the parts of our warm request: credential, lookup, the whole middleware."""
    from auth_token import credentials, resolver
    from auth_token.middleware import TokenAuthenticationMiddleware

    client = make_client(credential)
    for _ in range(300):  # the caches are warm
        get(client)
    factory = RequestFactory(headers={"Authorization": credential["header"]})
    request = factory.get("/ping/")
    found = credentials.get_credential(request)
    found.digest()
    if resolver.lookup(found) is None:
        raise SystemExit("the token does not resolve")

    def view(request):
        request.user.is_authenticated  # noqa: B018 (resolves the token, as DRF's permission does)
        return HttpResponse()

    middleware = TokenAuthenticationMiddleware(view)
    requests = [factory.get("/ping/") for _ in range(iterations)]
    spare, bare = iter(requests * 3), iter(requests * 3)
    return {
        "credential": per_call(lambda: credentials.get_credential(request).digest(), iterations),
        "lookup": per_call(lambda: resolver.lookup(found), iterations),
        # Less what the view costs without the middleware (making the response).
        "middleware": per_call(lambda: middleware(next(spare)), iterations)
        - per_call(lambda: (next(bare), HttpResponse()), iterations),
    }


def lookup_cost(credential: dict, iterations: int) -> dict:
    """Time the resolver's lookup alone and EXPLAIN its query (the scale run)."""
    from auth_token import credentials, lookup, resolver

    request = RequestFactory().get("/ping/", headers={"Authorization": credential["header"]})
    found = credentials.get_credential(request)
    if resolver.lookup(found) is None:
        raise SystemExit("the scale run's token does not resolve")
    for _ in range(100):
        resolver.lookup(found)
    start = time.perf_counter()
    for _ in range(iterations):
        resolver.lookup(found)
    per_lookup = (time.perf_counter() - start) / iterations
    queryset = lookup.lookup_queryset(found.digest(), timezone.now())
    plan = queryset.explain(analyze=True)
    return {"lookup_ms": per_lookup * 1000, "plan": plan}


def main() -> None:
    command = sys.argv[1]
    if command == "setup":
        print(json.dumps(setup()))
    elif command == "inproc":
        credential = json.loads(sys.argv[2])
        print(json.dumps(inproc(credential, int(sys.argv[3]), float(sys.argv[4]))))
    elif command == "loop":
        print(json.dumps(loop(json.loads(sys.argv[2]))))
    elif command == "breakdown":
        print(json.dumps(breakdown(json.loads(sys.argv[2]))))
    elif command == "lookup":
        print(json.dumps(lookup_cost(json.loads(sys.argv[2]), int(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
