"""Why a token or a takeover ended: the values sent with ``token_revoked`` and ``takeover_ended``
and stored in ``UserTokenTakeover.end_reason``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RevokeReason(models.TextChoices):
    REVOKED = "revoked"
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    REPLACED = "replaced"  # a new browser login replaced the request's cookie token
    LIMIT = "limit"  # evicted by MAX_TOKENS_PER_USER
    PASSWORD_CHANGED = "password_changed"
    DEVICE_DEACTIVATED = "device_deactivated"
    DELETED = "deleted"
    CLIENT_CHANGED = "client_changed"  # its API client was deactivated or narrowed


class TakeoverEndReason(models.TextChoices):
    RELEASED = "released", _("Released")
    LOGOUT = "logout", _("Logged out")
    PERMISSION = "permission", _("Permission withdrawn")
    TARGET_CHANGED = "target_changed", _("Taken-over user changed")
    TOKEN_REVOKED = "token_revoked", _("Token revoked")
    LOGOUT_ALL = "logout_all", _("Logged out everywhere")
    LIMIT = "limit", _("Token limit reached")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    EXPIRED = "expired", _("Token expired")
    DEACTIVATED = "deactivated", _("Device deactivated")


def takeover_end_reason(reason: str) -> TakeoverEndReason:
    """Return why a takeover ended when its token ended for ``reason``."""
    return {
        RevokeReason.LOGOUT: TakeoverEndReason.LOGOUT,
        RevokeReason.LOGOUT_ALL: TakeoverEndReason.LOGOUT_ALL,
        RevokeReason.LIMIT: TakeoverEndReason.LIMIT,
        RevokeReason.PASSWORD_CHANGED: TakeoverEndReason.PASSWORD_CHANGED,
        RevokeReason.DEVICE_DEACTIVATED: TakeoverEndReason.DEACTIVATED,
    }.get(reason, TakeoverEndReason.TOKEN_REVOKED)
