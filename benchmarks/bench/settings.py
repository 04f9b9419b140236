"""Benchmark settings. ``BENCH_AUTH`` picks the authentication system, ``BENCH_DB`` the database.

Every system's apps are installed in every configuration, so one migrated database serves all;
only the middleware and DRF's authentication class change.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
AUTH = os.environ.get("BENCH_AUTH", "none")
DB = os.environ.get("BENCH_DB", "sqlite")
SYSTEMS = ("none", "floor", "drf", "knox", "knox_refresh", "session", "ours", "ours_cache", "ours_local")
if AUTH not in SYSTEMS:
    raise RuntimeError(f"BENCH_AUTH must be one of {SYSTEMS}")

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # setup speed only

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "knox",
    "auth_token",
]

if DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("BENCH_PG_NAME", "bench"),
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
            "CONN_MAX_AGE": None,  # persistent connections, as in production
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / ".tmp" / "bench.sqlite3",
            "CONN_MAX_AGE": None,
        }
    }

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
if AUTH in ("ours_cache", "ours_local"):
    CACHES["tokens"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3"),
        "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
    }
    AUTH_TOKEN_CACHE = "tokens"
    AUTH_TOKEN_LOCAL_CACHE = AUTH == "ours_local"

AUTH_TOKEN_COOKIE = False  # header only, like the other systems

MIDDLEWARE = []
AUTHENTICATION = {
    "none": [],
    "floor": ["bench.floor.FixedUser"],  # instructions.py only
    "drf": ["rest_framework.authentication.TokenAuthentication"],
    "knox": ["knox.auth.TokenAuthentication"],
    "knox_refresh": ["knox.auth.TokenAuthentication"],
    "session": ["rest_framework.authentication.SessionAuthentication"],
    "ours": ["auth_token.contrib.rest_framework.authentication.TokenAuthentication"],
    "ours_cache": ["auth_token.contrib.rest_framework.authentication.TokenAuthentication"],
    "ours_local": ["auth_token.contrib.rest_framework.authentication.TokenAuthentication"],
}[AUTH]
if AUTH == "session":
    MIDDLEWARE = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
elif AUTH.startswith("ours"):
    MIDDLEWARE = ["auth_token.middleware.TokenAuthenticationMiddleware"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": AUTHENTICATION,
    "DEFAULT_PERMISSION_CLASSES": (
        ["rest_framework.permissions.AllowAny"]
        if AUTH == "none"
        else ["rest_framework.permissions.IsAuthenticated"]
    ),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
REST_KNOX = {"AUTO_REFRESH": AUTH == "knox_refresh"}

LOGGING = {"version": 1, "disable_existing_loggers": False}
