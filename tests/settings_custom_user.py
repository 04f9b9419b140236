"""The test settings with a custom user model (email as USERNAME_FIELD, no username)."""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.custom_user"]  # noqa: F405
AUTH_USER_MODEL = "custom_user.EmailUser"
AUTH_TOKEN_TAKEOVER_USER_ADMIN = False  # the test user model has no admin (and no staff flags)
