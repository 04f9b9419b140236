"""Plain Django views for browser sites. They call ``services`` and hold no logic of their own."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from auth_token import services
from auth_token.forms import TokenAuthenticationForm


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login view, issuing a cookie-only token ("remember me" keeps it for longer)."""

    form_class = TokenAuthenticationForm
    template_name = "auth_token/login.html"

    def form_valid(self, form):
        services.login(
            self.request,
            form.get_user(),
            expiration=not form.cleaned_data.get("remember"),
            allowed_header=False,
        )
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """POST only, as Django's; ends the token and deletes the cookie."""

    template_name = "auth_token/logged_out.html"

    def post(self, request, *args, **kwargs):
        services.logout(request)
        redirect_to = self.get_success_url()
        if redirect_to != request.get_full_path():
            return HttpResponseRedirect(redirect_to)
        return super().get(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view; the current token stays valid, every other one of the user ends."""

    template_name = "auth_token/password_change_form.html"
    success_url = reverse_lazy("auth_token:password_change_done")

    def form_valid(self, form):
        form.save()
        services.update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "auth_token/password_change_done.html"
