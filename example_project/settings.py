"""Settings of the example site. For local development only: SQLite, DEBUG on by default.

Environment: ``DJANGO_DEBUG`` (default on; ``0``/``false``/``no``/``off`` turns it off) and
``DJANGO_SECRET_KEY`` (required when DEBUG is off).
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1").strip().lower() not in {"0", "false", "no", "off", ""}

_DEV_SECRET_KEY = "django-insecure-example-project-DEV-ONLY-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    # The token session hash is derived from SECRET_KEY: a public key would make it forgeable.
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # First: its templates override auth_token's plain auth_token/base.html. (The admin shows the
    # takeover banner by itself.)
    "example_project.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "auth_token",
    # The token API (auth_token.contrib.rest_framework) and its OpenAPI schema at /api/schema/.
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Kept for the admin (messages, admin.E410); auth_token itself needs no session.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Replaces django.contrib.auth.middleware.AuthenticationMiddleware.
    "auth_token.middleware.TokenAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "auth_token.context_processors.token",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# ThrottledModelBackend (Django's ModelBackend behind the login budget), first, refuses every login
# over AUTH_TOKEN_LOGIN_THROTTLE_RATE, the admin's and device logins included. DeviceKeyBackend lets
# registered devices log in with their secret (the API's devices/login/).
AUTHENTICATION_BACKENDS = [
    "auth_token.throttling.ThrottledModelBackend",
    "auth_token.backends.DeviceKeyBackend",
]

LOGIN_URL = "auth_token:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# auth_token: only names from auth_token.conf.DEFAULTS (an unknown AUTH_TOKEN_* gives auth_token.W003).
# runserver speaks plain HTTP, where browsers drop Secure cookies.
AUTH_TOKEN_COOKIE_SECURE = not DEBUG

# The token API's views set their own authentication, permission and throttle classes; this only
# lets drf-spectacular describe them at /api/schema/.
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"TITLE": "django-token-sessions example API", "VERSION": "0.1.0"}
