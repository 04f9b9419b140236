from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuthTokenConfig(AppConfig):
    name = "auth_token"
    verbose_name = _("Authorization tokens")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auth_token import checks, receivers  # noqa: F401  (checks register themselves)

        receivers.connect()
