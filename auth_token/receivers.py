"""Signal receivers: Django's login()/logout() bridged to tokens, the token cache and takeovers
kept coherent with changes made outside ``services``, and every login counted by the throttle."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, user_logged_in, user_logged_out
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from auth_token import cache as token_cache
from auth_token import resolver, rules, services, throttling
from auth_token.conf import settings
from auth_token.contrib.rest_framework import legacy
from auth_token.credentials import (
    Credential,
    is_test_client_request,
    remember_test_client_session,
    test_client_credential,
)
from auth_token.models import Token
from auth_token.reasons import TakeoverEndReason
from auth_token.services._ending import end_takeover
from auth_token.services._request import refuse_for_token, service_call
from auth_token.services.takeovers import recheck_takeovers_of
from auth_token.signals import token_revoked
from auth_token.state import RequestState, current_state, get_state, start


def user_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """A user's password, flags or deletion may end their tokens and takeovers of them (saved, or
    about to be deleted)."""
    if not settings.CACHE:
        return
    actors = Token.objects.filter(active_takeover__user_id=instance.pk).values_list("user_id", flat=True)
    token_cache.invalidate_users({instance.pk, *actors})


def password_saved(
    sender: type, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    """A new password ends the user's other sessions at once, rather than leaving them listed."""
    if created or (update_fields is not None and "password" not in update_fields):
        return
    services.end_stale_sessions(instance)


def guard_password_during_takeover(
    sender: type, instance: Any, update_fields: Any = None, raw: bool = False, **kwargs: Any
) -> None:
    """Refuse to save a changed password while the current request acts under a takeover.

    Any path counts (the admin's password forms, a project's own view), and nothing is written.
    """
    state = current_state.get()
    if state is None or raw or instance._state.adding or not hasattr(instance, "password"):
        return
    if update_fields is not None and "password" not in update_fields:
        return
    token = state.get_token()
    if getattr(token, "active_takeover_id", None) is None:
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        refuse_for_token(token)


def rights_deleting(sender: type, instance: Any, **kwargs: Any) -> None:
    """A group or permission is being deleted: no m2m_changed follows, so note who loses it."""
    user_model = get_user_model()
    users = set(_affected_users(instance, user_model, None))
    if not hasattr(instance, "permissions"):  # a permission: also its holders through groups
        users.update(_affected_users(instance, sender, None))
    instance._auth_token_affected_users = users


def rights_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    users = instance.__dict__.pop("_auth_token_affected_users", set())
    recheck_takeovers_of(users)
    token_cache.invalidate_users(users)


def token_deleted(sender: type, instance: Token, **kwargs: Any) -> None:
    """A token deleted with its user (or by a query) ends its takeover: the audit row stays true.

    A token that could still authenticate loses its cached entry too, with its owner's
    generation: a fill that read the row before the delete must not keep it alive. Revoked and
    expired tokens (``cleartokens`` deletes them by the thousand) were invalidated when they ended,
    and a cached copy of one is refused anyway.
    """
    if instance.active_takeover_id is not None:
        end_takeover(instance, TakeoverEndReason.TOKEN_REVOKED)
    if rules.token_is_live(instance):
        token_cache.invalidate_tokens([instance.key], owners=[instance.user_id])


def django_logged_in(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    """Django's login() (the admin's login page, password reset...): issue a cookie token too.

    Django's test client (``force_login()``, ``login()``) calls login() on a request that never
    passed the middleware: its session then stands for the new token in later requests.
    """
    from_test_client = is_test_client_request(request)
    state = _test_client_state(request, None) if from_test_client else get_state(request)
    if state is None or state.in_service:
        return
    session = getattr(request, "session", None)
    backend = session.get(BACKEND_SESSION_KEY) if session is not None else None
    with service_call(state):
        _, raw = services.login(request, user, backend=backend, allowed_header=False)
    if from_test_client:
        remember_test_client_session(request.session.session_key, raw)


def django_logged_out(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    """Django's logout(): end the request's token (or, during a takeover, the takeover)."""
    if is_test_client_request(request):
        credential = test_client_credential(request.session.session_key, forget=True)
        state = _test_client_state(request, credential)
    else:
        state = get_state(request)
    if state is None or state.in_service:
        return
    with service_call(state):
        services.logout(request)


def _test_client_state(request: Any, credential: Credential | None) -> RequestState:
    """Give the test client's bare request the state the middleware gives a real one."""
    return start(request, credential, resolver)


def memberships_changed(
    sender: type, instance: Any, action: str, model: type, pk_set: Any, **kwargs: Any
) -> None:
    """Groups and permissions feed the takeover rule: re-check takeovers, drop cached tokens."""
    if action == "pre_clear":
        # After a clear nobody is left to name: remember who is affected now.
        instance._auth_token_affected_users = _affected_users(instance, model, None)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        users = instance.__dict__.pop("_auth_token_affected_users", [])
    else:
        users = _affected_users(instance, model, pk_set)
    recheck_takeovers_of(users)
    token_cache.invalidate_users(users)


def _affected_users(instance: Any, model: type, pk_set: Any) -> list[Any]:
    user_model = get_user_model()
    if isinstance(instance, user_model):
        return [instance.pk]
    if model is user_model:  # users added to or removed from a group or permission
        return list(pk_set) if pk_set is not None else list(instance.user_set.values_list("pk", flat=True))
    if hasattr(instance, "user_set") and hasattr(instance, "permissions"):  # a group's permissions
        return list(instance.user_set.values_list("pk", flat=True))
    # A permission given to or taken from groups.
    groups = pk_set if pk_set is not None else instance.group_set.values_list("pk", flat=True)
    return list(user_model._default_manager.filter(groups__in=list(groups)).values_list("pk", flat=True))


def _user_relations(user_model: type) -> list[type]:
    return [
        getattr(user_model, name).through
        for name in ("groups", "user_permissions")
        if hasattr(user_model, name)
    ]


def connect() -> None:
    user_login_failed.connect(throttling.login_failed, dispatch_uid="auth_token.throttle_failure")
    user_logged_in.connect(throttling.logged_in, dispatch_uid="auth_token.throttle_success")
    pre_delete.connect(token_deleted, sender=Token, dispatch_uid="auth_token.token_deleted")
    user_logged_in.connect(django_logged_in, dispatch_uid="auth_token.bridge_login")
    user_logged_out.connect(django_logged_out, dispatch_uid="auth_token.bridge_logout")
    if apps.is_installed("rest_framework.authtoken"):
        token_revoked.connect(legacy.token_revoked, dispatch_uid="auth_token.retire_drf_key")
    user_model = get_user_model()
    pre_save.connect(
        guard_password_during_takeover, sender=user_model, dispatch_uid="auth_token.password_guard"
    )
    post_save.connect(password_saved, sender=user_model, dispatch_uid="auth_token.password_saved")
    post_save.connect(user_changed, sender=user_model, dispatch_uid="auth_token.user_saved")
    # Before the delete: afterwards the takeovers of this user point to no one, and their actors,
    # whose cached entries act as this user, could no longer be found.
    pre_delete.connect(user_changed, sender=user_model, dispatch_uid="auth_token.user_deleted")
    for through in _user_relations(user_model):
        m2m_changed.connect(memberships_changed, sender=through, dispatch_uid=f"auth_token.m2m.{through}")
    try:
        from django.contrib.auth.models import Group, Permission
    except RuntimeError:  # django.contrib.auth's models are not installed
        return
    m2m_changed.connect(
        memberships_changed, sender=Group.permissions.through, dispatch_uid="auth_token.group_permissions"
    )
    if not _user_relations(user_model):  # a user model without groups and permissions
        return
    for model in (Group, Permission):
        uid = f"auth_token.rights.{model.__name__}"
        pre_delete.connect(rights_deleting, sender=model, dispatch_uid=uid)
        post_delete.connect(rights_deleted, sender=model, dispatch_uid=uid)
