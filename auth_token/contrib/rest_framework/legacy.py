"""DRF authtoken keys imported as tokens: retire the DRF row when the imported token ends.

During a move the project keeps DRF's ``TokenAuthentication`` after ours. Our class refuses a
legacy key that matches one of our tokens, valid or not; once that token is gone (``cleartokens``)
DRF's class would accept the key again from ``authtoken_token``. Deleting DRF's row when the
imported token ends keeps a revoked, logged-out or expired key from coming back that way.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps

from auth_token import keys
from auth_token.models import Token


def retire_drf_keys(tokens: Iterable[tuple[str, object]]) -> int:
    """Delete the DRF authtoken rows imported as these ended tokens, given as ``(key, user_id)``
    pairs; return how many."""
    imported = {key: user_id for key, user_id in tokens if keys.is_legacy_digest(key)}
    if not imported or not apps.is_installed("rest_framework.authtoken"):
        return 0
    from rest_framework.authtoken.models import Token as DrfToken

    # DRF keeps one key per user: read the few rows of these users and match them by digest.
    rows = DrfToken.objects.filter(user_id__in=set(imported.values())).values_list("pk", "key")
    retired = [pk for pk, key in rows if keys.legacy_digest(key) in imported]
    DrfToken.objects.filter(pk__in=retired).delete()
    return len(retired)


def token_revoked(sender: type, token: Token, **kwargs: object) -> None:
    retire_drf_keys([(token.key, token.user_id)])
