"""The actions on tokens. The only writers of tokens; views, admin, DRF and commands call them.

Every action accepts any request (or None) and skips the session when there is none; each has an
async twin prefixed ``a``.
"""

from auth_token.services.devices import (
    DEVICE_BACKEND,
    adeactivate_device,
    alogin_device,
    aregister_device,
    deactivate_device,
    login_device,
    register_device,
)
from auth_token.services.tokens import (
    alogin,
    alogout,
    alogout_all,
    arenew,
    arevoke,
    aupdate_session_auth_hash,
    clean_user_agent,
    client_ip,
    expiry,
    import_legacy_tokens,
    is_renewal_due,
    login,
    logout,
    logout_all,
    renew,
    renew_if_due,
    revoke,
    update_session_auth_hash,
)

__all__ = [
    "DEVICE_BACKEND",
    "adeactivate_device",
    "alogin",
    "alogin_device",
    "alogout",
    "alogout_all",
    "aregister_device",
    "arenew",
    "arevoke",
    "aupdate_session_auth_hash",
    "clean_user_agent",
    "client_ip",
    "deactivate_device",
    "expiry",
    "import_legacy_tokens",
    "is_renewal_due",
    "login",
    "login_device",
    "logout",
    "logout_all",
    "register_device",
    "renew",
    "renew_if_due",
    "revoke",
    "update_session_auth_hash",
]
