"""The actions on tokens that views, the admin, DRF and the management commands call.

Every action accepts any request (or None) and skips the session when there is none; each has an
async twin prefixed ``a``. Only the documented actions are exported here; the modules of this
package hold one concern each (tokens, renewal, devices, takeovers).
"""

from auth_token.client_ip import client_ip
from auth_token.rules import default_takeover_permission, lends_privileges
from auth_token.services._ending import delete_stale_tokens, delete_tokens, end_stale_sessions, end_tokens
from auth_token.services.clients import get_client, save_client
from auth_token.services.devices import (
    adeactivate_device,
    alogin_device,
    aregister_device,
    deactivate_device,
    delete_devices,
    login_device,
    register_device,
)
from auth_token.services.personal import (
    NO_EXPIRY,
    acreate_personal_token,
    create_personal_token,
    notify_expiring_tokens,
)
from auth_token.services.renewal import arenew, renew, renew_if_due
from auth_token.services.takeovers import arelease_takeover, atakeover, release_takeover, takeover
from auth_token.services.tokens import (
    alogin,
    alogout,
    alogout_all,
    arevoke,
    aupdate_session_auth_hash,
    import_legacy_tokens,
    login,
    logout,
    logout_all,
    revoke,
    update_session_auth_hash,
)

__all__ = [
    "NO_EXPIRY",
    "acreate_personal_token",
    "adeactivate_device",
    "alogin",
    "alogin_device",
    "alogout",
    "alogout_all",
    "aregister_device",
    "arelease_takeover",
    "arenew",
    "arevoke",
    "atakeover",
    "aupdate_session_auth_hash",
    "client_ip",
    "create_personal_token",
    "deactivate_device",
    "default_takeover_permission",
    "delete_devices",
    "delete_stale_tokens",
    "delete_tokens",
    "end_stale_sessions",
    "end_tokens",
    "get_client",
    "import_legacy_tokens",
    "lends_privileges",
    "login",
    "login_device",
    "logout",
    "logout_all",
    "notify_expiring_tokens",
    "register_device",
    "release_takeover",
    "renew",
    "renew_if_due",
    "revoke",
    "save_client",
    "takeover",
    "update_session_auth_hash",
]
