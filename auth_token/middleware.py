from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables

from auth_token import resolver, rules, services
from auth_token.conf import meta_key, settings
from auth_token.credentials import get_credential
from auth_token.decorators import RENEWAL_EXEMPT_ATTRIBUTE
from auth_token.exceptions import TakeoverActive
from auth_token.models import COOKIE, Token
from auth_token.services.renewal import is_renewal_due
from auth_token.state import RequestState, current_state, get_state, start
from auth_token.views import takeover_refused


class TokenAuthenticationMiddleware(AuthenticationMiddleware):
    """Replace Django's ``AuthenticationMiddleware``: ``request.token`` and ``request.user`` from a token.

    Subclasses it so that checks looking for it (``admin.E408``) pass, but needs no session.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.async_mode:
            return self.__acall__(request)
        state = self._attach(request)
        current = current_state.set(state)
        try:
            response = self.get_response(request)
        finally:
            current_state.reset(current)
        return self._finish(request, response, state)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # The request phase needs no query, so it runs here without a thread hop.
        state = self._attach(request)
        current = current_state.set(state)  # copied into sync_to_async threads
        try:
            response = await self.get_response(request)
        finally:
            current_state.reset(current)
        if self._needs_database(request, state):
            return await sync_to_async(self._finish)(request, response, state)
        return self._finish(request, response, state)

    def process_request(self, request: HttpRequest) -> None:
        self._attach(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        """A view refused an action during a takeover: a page that says why and offers Release
        (the API answers with its own JSON 403)."""
        if isinstance(exception, TakeoverActive) and request.accepts("text/html"):
            return takeover_refused(request, exception)
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        state = get_state(request)
        return response if state is None else self._finish(request, response, state)

    @staticmethod
    def _attach(request: HttpRequest) -> RequestState:
        credential = get_credential(request)
        if credential is not None and credential.source != COOKIE:
            # Never assign False: the test client sets this flag too.
            request._dont_enforce_csrf_checks = True
        return start(request, credential, resolver)

    @staticmethod
    def _needs_database(request: HttpRequest, state: RequestState) -> bool:
        if state.issued is not None or not isinstance(state.token, Token):
            return False
        session_modified = getattr(getattr(request, "session", None), "modified", False)
        return session_modified or is_renewal_due(state.token)

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponseBase, state: RequestState) -> HttpResponseBase:
        if not (state.resolved or state.issued or state.logged_out):
            return response
        headers = response.headers
        if "Vary" in headers:
            patch_vary_headers(response, (settings.HEADER_NAME, "Cookie"))
        else:  # the common case, without parsing
            headers["Vary"] = f"{settings.HEADER_NAME}, Cookie"
        token = state.token
        now = timezone.now()
        if state.issued is None and not state.logged_out and isinstance(token, Token):
            _bridge_session_auth_hash(request, token)
            if state.token is token:  # not replaced by a password change
                if is_renewal_due(token, now=now):
                    exempt = meta_key(settings.RENEWAL_EXEMPT_HEADER) in request.META or getattr(
                        request, RENEWAL_EXEMPT_ATTRIBUTE, False
                    )
                    services.renew_if_due(request, extend=not exempt)
                if state.renewed and token.is_from_cookie:  # here, or by the view
                    set_cookie(response, token, state.credential.raw)
            token = state.token
        valid = isinstance(token, Token)
        if state.issued is not None:
            # No local for the raw token here (every request passes): set_cookie() masks it.
            if state.issued[0].allowed_cookie:
                set_cookie(response, *state.issued)
        elif state.logged_out or (not valid and getattr(state.credential, "source", None) == COOKIE):
            delete_cookie(response, request)  # logged out, or the cookie's token is no longer valid
        if valid and settings.EXPIRATION_HEADER:
            headers[settings.EXPIRATION_HEADER] = str(int(token.time_left_at(now).total_seconds()))
        return response


def _bridge_session_auth_hash(request: HttpRequest, token: Token) -> None:
    """Keep the token valid when the view called Django's ``update_session_auth_hash()``.

    That function stores the user's new hash in the session only; a valid token whose stored hash
    differs from it means the password changed during this request.
    """
    session = getattr(request, "session", None)
    if session is None or not session.modified or token.active_takeover_id is not None:
        return
    new_hash = session.get(HASH_SESSION_KEY)
    if (
        new_hash
        and not constant_time_compare(new_hash, token.session_auth_hash)
        and rules.session_hash_match(new_hash, token.user) is rules.HashMatch.CURRENT
    ):
        services.update_session_auth_hash(request, token.user)


@sensitive_variables()  # also Django's set_cookie() frame, whose ``value`` is the raw token
def set_cookie(response: HttpResponseBase, token: Token, raw: str) -> None:
    """Set the token cookie: a browser-session cookie for short-lived tokens, else until expiry."""
    response.set_cookie(
        settings.COOKIE_NAME,
        raw,
        expires=None if token.expiration else token.expires_at,
        path=settings.COOKIE_PATH,
        domain=settings.COOKIE_DOMAIN,
        secure=settings.COOKIE_SECURE,
        httponly=settings.COOKIE_HTTPONLY,
        samesite=settings.COOKIE_SAMESITE,
    )


def delete_cookie(response: HttpResponseBase, request: HttpRequest) -> None:
    if settings.COOKIE_NAME in request.COOKIES:
        response.delete_cookie(
            settings.COOKIE_NAME,
            path=settings.COOKIE_PATH,
            domain=settings.COOKIE_DOMAIN,
            samesite=settings.COOKIE_SAMESITE,
        )
