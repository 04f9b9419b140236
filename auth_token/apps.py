from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class AuthTokenConfig(AppConfig):
    name = "auth_token"
    verbose_name = _("Token sessions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auth_token import checks, receivers, services  # noqa: F401  (checks register themselves)
        from auth_token.models import DeviceKeyQuerySet

        receivers.connect()
        DeviceKeyQuerySet.register_device = staticmethod(services.register_device)
        self.extend_user_admin()

    @staticmethod
    def extend_user_admin() -> None:
        """Show the takeover banner on the admin's pages, and give the user admin the takeover
        (``AUTH_TOKEN_TAKEOVER_USER_ADMIN``), whatever the order of ``INSTALLED_APPS``.

        The admin registers models when it autodiscovers, in its own ``ready()``, which runs after
        this one when ``auth_token`` is listed first: autodiscovery is run here then (importing
        each app's ``admin`` module once, as the admin would). A project on ``SimpleAdminConfig``
        registers by hand, later; check ``auth_token.W006`` tells it to add the mixin.
        """
        if not apps.is_installed("django.contrib.admin"):
            return
        from django.contrib import admin
        from django.contrib.admin.apps import AdminConfig

        from auth_token.admin_takeover import patch_user_admin, show_takeover_banner
        from auth_token.conf import settings

        show_takeover_banner(admin.site)
        if not settings.TAKEOVER_USER_ADMIN:
            return
        if isinstance(apps.get_app_config("admin"), AdminConfig):
            admin.autodiscover()
        patch_user_admin(admin.site)
