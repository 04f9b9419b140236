"""Plain Django views for browser sites. They call ``services`` and hold no logic of their own."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import RedirectURLMixin
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, ListView, TemplateView

from auth_token import rules, services, throttling
from auth_token import state as request_state
from auth_token.decorators import SESSION_ENDED, token_required
from auth_token.exceptions import InvalidPersonalToken, TakeoverActive
from auth_token.forms import PersonalTokenForm, TokenAuthenticationForm
from auth_token.landing import after_login_url, release_url, takeover_landing_url
from auth_token.models import DeviceKey, Token, TokenKind
from auth_token.scopes import UnknownScope
from auth_token.services._request import refuse_during_takeover


def page_context(request: HttpRequest) -> dict[str, Any]:
    """What ``auth_token/base.html`` shows of the request: who is signed in, the takeover banner
    with Release, the messages. Our views pass it, so the pages need no context processor."""
    acting_as = request_state.acting_as(request)
    return {
        "account_user": getattr(request, "user", None),
        "acting_as": acting_as,
        "release_url": release_url() if acting_as is not None else None,
        "home_url": after_login_url(),
        # Where Release comes back to: this page, unless it answered a POST.
        "current_path": request.get_full_path() if request.method in ("GET", "HEAD") else "",
        "messages": get_messages(request),
    }


class PageMixin:
    """Adds ``page_context()`` to a class-based view's context."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**page_context(self.request), **super().get_context_data(**kwargs)}


@method_decorator(login_not_required, name="dispatch")
class LoginView(PageMixin, auth_views.LoginView):
    """Django's login view, issuing a cookie-only token ("remember me" keeps it for longer).

    A signed-in visitor is told who they are; a visitor whose cookie just stopped working is told
    their session ended; over plain http:// to a host whose browser would drop the ``Secure``
    cookie, the page says so and refuses to log in rather than seeming to do nothing.
    """

    form_class = TokenAuthenticationForm
    template_name = "auth_token/login.html"
    throttled_template_name = "auth_token/login_throttled.html"

    def post(self, request, *args, **kwargs):
        # Before the form authenticates: a refused attempt costs no password hash and writes nothing.
        seconds = throttling.check_attempt(request, {"username": request.POST.get("username", "")})
        if seconds is not None:
            return self.throttled(seconds)
        if rules.secure_cookie_dropped(request):  # the page says why; nothing is authenticated
            form = self.get_form_class()(request, initial={"username": request.POST.get("username", "")})
            return self.render_to_response(self.get_context_data(form=form), status=400)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            insecure_cookie=rules.secure_cookie_dropped(self.request),
            session_ended=request_state.cookie_rejected(self.request),
            session_ended_message=SESSION_ENDED,
            **kwargs,
        )

    def get_default_redirect_url(self) -> str:
        return after_login_url()

    def throttled(self, seconds: int) -> TemplateResponse:
        """Answer 429 with ``Retry-After``: too many attempts from this address or for this username."""
        context = {
            **page_context(self.request),
            "retry_after": seconds,
            "retry_after_minutes": math.ceil(seconds / 60),
            "login_url": self.request.get_full_path(),
        }
        response = TemplateResponse(self.request, self.throttled_template_name, context, status=429)
        response["Retry-After"] = str(seconds)
        return response

    def form_valid(self, form):
        services.login(
            self.request,
            form.get_user(),
            expiration=not form.cleaned_data.get("remember"),
            allowed_header=False,
        )
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(PageMixin, auth_views.LogoutView):
    """A POST ends the token and deletes the cookie. A GET (a link, a typed address) changes
    nothing: it asks to confirm with a button that POSTs, where Django's view answers 405."""

    template_name = "auth_token/logged_out.html"
    confirm_template_name = "auth_token/logout_confirm.html"
    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(**kwargs)
        return self.response_class(request, self.confirm_template_name, context)

    def post(self, request, *args, **kwargs):
        services.logout(request)
        redirect_to = self.get_success_url()
        if redirect_to != request.get_full_path():
            return HttpResponseRedirect(redirect_to)
        return super().get(request, *args, **kwargs)


class PasswordChangeView(PageMixin, auth_views.PasswordChangeView):
    """Django's view; this browser gets a new token, every other token of the user ends.

    Refused during a takeover before the form is even shown, so it is never saved and then refused.
    """

    template_name = "auth_token/password_change_form.html"
    success_url = reverse_lazy("auth_token:password_change_done")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            refuse_during_takeover(request)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        form.save()
        services.update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeDoneView(PageMixin, auth_views.PasswordChangeDoneView):
    template_name = "auth_token/password_change_done.html"


@method_decorator(token_required, name="dispatch")
class SessionListView(PageMixin, ListView):
    """The current user's active sessions, most recently used first; the current one is marked."""

    template_name = "auth_token/sessions.html"
    context_object_name = "sessions"

    def get_queryset(self):
        return Token.objects.sessions_of(self.request.user)

    def get_context_data(self, **kwargs):
        user = self.request.user
        devices = DeviceKey.objects.filter(user=user, is_active=True).order_by("-created_at")
        personal = Token.objects.personal_tokens_of(user)
        return super().get_context_data(
            current_token_id=self.request.token.pk, devices=devices, personal_tokens=personal, **kwargs
        )


@method_decorator(token_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class CreatePersonalTokenView(PageMixin, FormView):
    """A form for a personal access token; the next page shows it once (never cached)."""

    form_class = PersonalTokenForm
    template_name = "auth_token/personal_token_form.html"
    created_template_name = "auth_token/personal_token_created.html"

    def form_valid(self, form):
        try:
            token, raw = services.create_personal_token(
                self.request,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"] or None,
                expires_at=form.expires_at(),
            )
        except (InvalidPersonalToken, UnknownScope) as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        context = self.get_context_data(form=form, token=token, raw_token=raw)
        return self.response_class(self.request, self.created_template_name, context)


@method_decorator(token_required, name="dispatch")
class RevokeView(View):
    """POST only: end one of the user's own sessions; ending the current one logs out."""

    def post(self, request, public_id):
        # Another user's, an unknown or an already ended session: 404 alike.
        token = get_object_or_404(Token.objects.active(), public_id=public_id, user=request.user)
        if token.pk == request.token.pk:
            # Through logout(), so that the middleware deletes the cookie.
            services.logout(request)
            messages.success(request, _("You have been signed out."), fail_silently=True)
            return redirect(django_settings.LOGIN_URL)
        services.revoke(token, request=request)
        if token.kind == TokenKind.PERSONAL:
            message = _("The token “%(name)s” was revoked.") % {"name": token.name}
        else:
            message = _("The session was signed out.")
        messages.success(request, message, fail_silently=True)
        return redirect("auth_token:sessions")


@method_decorator(token_required, name="dispatch")
class RemoveDeviceView(View):
    """POST only: deactivate one of the user's devices and sign out what it signed in."""

    def post(self, request, device_id):
        # Another user's, an unknown or an already removed device: 404 alike.
        device = get_object_or_404(DeviceKey, pk=device_id, user=request.user, is_active=True)
        services.deactivate_device(device, request=request)
        messages.success(request, _("The device was removed."), fail_silently=True)
        return redirect("auth_token:sessions")


@method_decorator(token_required, name="dispatch")
class RevokeOthersView(View):
    """POST only: end every other session and every device key of the user, as the API does."""

    def post(self, request):
        count = services.logout_all(request.user, keep=request.token, devices=True, request=request)
        message = ngettext(
            "%(count)d other session was signed out.", "%(count)d other sessions were signed out.", count
        )
        messages.success(request, message % {"count": count}, fail_silently=True)
        return redirect("auth_token:sessions")


@method_decorator(token_required, name="dispatch")
class ReleaseTakeoverView(PageMixin, RedirectURLMixin, TemplateView):
    """POST: stop acting as another user; works even if that user is gone or inactive. A GET (a
    typed address) shows the button."""

    template_name = "auth_token/release.html"

    def post(self, request):
        if services.release_takeover(request):
            messages.success(request, _("You are yourself again."), fail_silently=True)
        return HttpResponseRedirect(self.get_success_url())

    def get_default_redirect_url(self):
        return takeover_landing_url(self.request.user)


def takeover_refused(request: HttpRequest, exception: TakeoverActive) -> HttpResponse:
    """The 403 page of an action refused during a takeover: what was refused, as whom, and a
    Release button that comes back here (a GET) or goes where Release lands."""
    # From the takeover record: a refused login() has already put its own user on the request.
    takeover = getattr(getattr(request, "token", None), "active_takeover", None)
    acting_as = (takeover.user or takeover.user_repr) if takeover is not None else request.user
    context = page_context(request)
    context.update(
        message=str(exception),
        account_user=acting_as,
        acting_as=acting_as,
        release_url=release_url(),
        next=context["current_path"],
    )
    return render(request, "auth_token/takeover_refused.html", context, status=403)
