"""Test settings. ``DB=sqlite|postgres|mariadb`` picks the database; the servers are on 127.0.0.1."""

import os

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests only

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "auth_token",
    "tests",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "auth_token.middleware.TokenAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "auth_token.context_processors.token",
            ]
        },
    }
]

STATIC_URL = "static/"

DATABASE_ENGINES = {
    "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    "postgres": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test",
        "HOST": "127.0.0.1",
        "PORT": 5432,
        "USER": os.environ.get("PGUSER", "postgres"),
    },
    "mariadb": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": "test",
        "HOST": "127.0.0.1",
        "PORT": 3306,
        "USER": "root",
        "PASSWORD": "",
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
    },
}
DB = os.environ.get("DB", "sqlite")
DATABASES = {
    "default": DATABASE_ENGINES[DB],
    # A separate database standing for a read replica that lags (tests/test_cache_replica.py);
    # only the tests that ask for it create it.
    "replica": {
        **DATABASE_ENGINES[DB],
        "TEST": {**DATABASE_ENGINES[DB].get("TEST", {}), "NAME": None if DB == "sqlite" else "test_replica"},
    },
}

AUTHENTICATION_BACKENDS = [
    "auth_token.throttling.LoginThrottleBackend",  # first: refuses logins over the login budget
    "django.contrib.auth.backends.ModelBackend",
    "auth_token.backends.DeviceKeyBackend",
]
LOGIN_URL = "auth_token:login"
LOGIN_REDIRECT_URL = "/me/"
AUTH_TOKEN_COOKIE_SECURE = False
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
