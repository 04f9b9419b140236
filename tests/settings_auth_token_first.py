"""The test settings with auth_token listed before the apps whose admins it extends."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = ["auth_token", *[app for app in INSTALLED_APPS if app != "auth_token"]]  # noqa: F405
