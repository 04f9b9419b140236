"""Signal receivers that keep the token cache coherent with changes made outside ``services``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save

from auth_token import cache as token_cache
from auth_token.conf import settings
from auth_token.models import Token


def user_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """A user's password, flags or deletion may end their tokens and takeovers of them."""
    if not settings.CACHE:
        return
    actors = Token.objects.filter(active_takeover__user_id=instance.pk).values_list("user_id", flat=True)
    token_cache.invalidate_users({instance.pk, *actors})


def memberships_changed(
    sender: type, instance: Any, action: str, model: type, pk_set: Any, **kwargs: Any
) -> None:
    """Groups and permissions feed the takeover rule: drop the cached tokens of every user affected."""
    if not settings.CACHE or action not in ("post_add", "post_remove", "pre_clear"):
        return
    user_model = get_user_model()
    if isinstance(instance, user_model):
        users = [instance.pk]
    elif model is user_model:
        users = pk_set if pk_set is not None else instance.user_set.values_list("pk", flat=True)
    elif hasattr(instance, "user_set") and hasattr(instance, "permissions"):  # a group's permissions
        users = instance.user_set.values_list("pk", flat=True)
    else:  # a permission given to or taken from groups
        groups = pk_set if pk_set is not None else instance.group_set.values_list("pk", flat=True)
        users = user_model._default_manager.filter(groups__in=list(groups)).values_list("pk", flat=True)
    token_cache.invalidate_users(list(users))


def _user_relations(user_model: type) -> list[type]:
    return [
        getattr(user_model, name).through
        for name in ("groups", "user_permissions")
        if hasattr(user_model, name)
    ]


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(user_changed, sender=user_model, dispatch_uid="auth_token.user_saved")
    post_delete.connect(user_changed, sender=user_model, dispatch_uid="auth_token.user_deleted")
    for through in _user_relations(user_model):
        m2m_changed.connect(memberships_changed, sender=through, dispatch_uid=f"auth_token.m2m.{through}")
    try:
        from django.contrib.auth.models import Group
    except RuntimeError:  # django.contrib.auth's models are not installed
        return
    m2m_changed.connect(
        memberships_changed, sender=Group.permissions.through, dispatch_uid="auth_token.group_permissions"
    )
