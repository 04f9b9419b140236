from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from auth_token import rules, scopes
from auth_token.conf import settings
from auth_token.models import HEADER
from auth_token.state import cookie_rejected, get_state

RENEWAL_EXEMPT_ATTRIBUTE = "_auth_token_renewal_exempt"
SESSION_ENDED = _(
    "Your session has ended: it expired or was signed out from another device. Please log in again."
)


def renewal_exempt(view: Callable) -> Callable:
    """Mark a view whose requests must not slide the token's expiry (e.g. a polling endpoint)."""
    if iscoroutinefunction(view):

        async def async_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            setattr(request, RENEWAL_EXEMPT_ATTRIBUTE, True)
            return await view(request, *args, **kwargs)

        return wraps(view)(async_wrapper)

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        setattr(request, RENEWAL_EXEMPT_ATTRIBUTE, True)
        return view(request, *args, **kwargs)

    return wraps(view)(wrapper)


def _unauthorized(request: HttpRequest) -> HttpResponse:
    """401 for header clients, who cannot follow a login redirect; else the login page."""
    credential = getattr(get_state(request), "credential", None)
    if credential is not None and credential.source == HEADER:
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = f'{settings.HEADER_TOKEN_TYPE} error="invalid_token"'
        return response
    if cookie_rejected(request):
        messages.warning(request, SESSION_ENDED, fail_silently=True)
    return redirect_to_login(request.get_full_path())


def token_required(view: Callable) -> Callable:
    """Like ``login_required``, but header clients get 401 with ``WWW-Authenticate`` instead."""
    if iscoroutinefunction(view):

        async def async_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if (await request.auser()).is_authenticated:
                return await view(request, *args, **kwargs)
            return _unauthorized(request)

        wrapper = wraps(view)(async_wrapper)
        markcoroutinefunction(wrapper)
        return wrapper

    @wraps(view)
    def sync_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        return _unauthorized(request)

    return sync_wrapper


def scope_required(*required: str) -> Callable:
    """Like ``token_required``, and the request's token must hold every scope of ``required``:
    else 403 with ``WWW-Authenticate: Bearer error="insufficient_scope"``. Scopes only narrow: the
    view's own checks still apply."""

    def decorator(view: Callable) -> Callable:
        if iscoroutinefunction(view):

            async def async_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
                if not (await request.auser()).is_authenticated:
                    return _unauthorized(request)
                missing = rules.missing_scopes(await request.atoken(), required)
                return (
                    _insufficient_scope(required, missing)
                    if missing
                    else await view(request, *args, **kwargs)
                )

            wrapper = wraps(view)(async_wrapper)
            markcoroutinefunction(wrapper)
            return wrapper

        @wraps(view)
        def sync_wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return _unauthorized(request)
            missing = rules.missing_scopes(request.token, required)
            return _insufficient_scope(required, missing) if missing else view(request, *args, **kwargs)

        return sync_wrapper

    return decorator


def _insufficient_scope(required: tuple[str, ...], missing: list[str]) -> HttpResponse:
    response = JsonResponse({"detail": scopes.refusal(missing)}, status=403)
    response["WWW-Authenticate"] = scopes.challenge(required)
    return response
