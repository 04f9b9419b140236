"""Taking over a user from the user admin: ``TakeoverUserAdminMixin`` gives a user ``ModelAdmin``
the action ``takeover_user`` ("Take over this user", one user at a time) and a button on the
change page, POST + CSRF only. ``rules.takeover_refusal`` decides; the action is offered to users
with ``auth_token.takeover_user``, or to every admin user when ``AUTH_TOKEN_TAKEOVER_PERMISSION``
is set (it decides per target).

``AuthTokenConfig.ready()`` calls ``patch_user_admin()`` once the admin has autodiscovered (with
``AUTH_TOKEN_TAKEOVER_USER_ADMIN = True``, the default): the user model's ``ModelAdmin`` on
``admin.site`` is re-registered as a subclass with the mixin first (``UserAdmin`` becomes
``TakeoverUserAdmin``), whatever the order of ``INSTALLED_APPS``. An admin that already has the
mixin is left alone. Check ``auth_token.W006`` warns when there is no user admin to extend.
Import the mixin from ``auth_token.admin``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import django
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from auth_token import rules, services
from auth_token import state as request_state
from auth_token.conf import settings as app_settings
from auth_token.exceptions import TakeoverNotAllowed
from auth_token.landing import release_url, takeover_landing_url
from auth_token.models import Token

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse


class TakeoverForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
        help_text=_("Kept in the takeover's audit record, e.g. a support ticket number."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = bool(app_settings.TAKEOVER_REQUIRE_REASON)


class TakeoverUserAdminMixin:
    """Taking over a user from a user ``ModelAdmin``: an action and a button, POST + CSRF only."""

    change_form_template = "admin/auth_token/user/change_form.html"
    takeover_confirmation_template = "admin/auth_token/user/takeover_confirmation.html"

    def get_urls(self) -> list:
        opts = self.opts
        return [
            path(
                "<path:object_id>/takeover/",
                self.admin_site.admin_view(self.takeover_view),
                name=f"{opts.app_label}_{opts.model_name}_takeover",
            ),
            # Not behind admin_view: during a takeover the request acts as the user taken over,
            # who may have no admin access, and must still find the way back.
            path(
                "takeover/release/",
                csrf_protect(never_cache(self.release_view)),
                name=f"{opts.app_label}_{opts.model_name}_release",
            ),
            *super().get_urls(),
        ]

    def release_view(self, request: HttpRequest) -> HttpResponse:
        """POST: end the request's takeover and go back to ``next`` (the page the banner was on)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if services.release_takeover(request):
            messages.success(request, gettext("You are yourself again."), fail_silently=True)
        index = reverse(f"{self.admin_site.name}:index", current_app=self.admin_site.name)
        return HttpResponseRedirect(_safe_next(request, request.POST.get("next", ""), index))

    def has_takeover_permission(self, request: HttpRequest) -> bool:
        """Return whether to offer the action; ``rules.takeover_refusal`` still decides for each target."""
        return bool(app_settings.TAKEOVER_PERMISSION) or request.user.has_perm(rules.TAKEOVER_PERMISSION)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Added to the admin's own actions (None turns every action off); Django offers it to
        # those for whom has_takeover_permission() holds.
        if self.actions is not None and "takeover_user" not in self.actions:
            self.actions = (*self.actions, "takeover_user")

    @admin.action(permissions=["takeover"], description=_("Take over this user"))
    def takeover_user(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Send the one selected user to the confirmation page, which asks for a reason."""
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, gettext("Select exactly one user to take over."), messages.ERROR)
            return None
        refusal = self._takeover_refusal(request, users[0])
        if refusal is not None:
            self.message_user(request, refusal, messages.ERROR)
            return None
        return HttpResponseRedirect(self._admin_url("takeover", users[0]))

    def takeover_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: confirm, with the reason for the audit record. POST: start the takeover."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        # None for an unknown id and for one the primary key cannot hold ("abc", huge numbers).
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        change_url = self._admin_url("change", user)
        refusal = self._takeover_refusal(request, user)
        if refusal is not None:
            self.message_user(request, refusal, messages.ERROR)
            return HttpResponseRedirect(change_url)
        form = TakeoverForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                services.takeover(request, user, reason=form.cleaned_data["reason"])
            except TakeoverNotAllowed as error:
                message = error.args[0] if error.args else gettext("You cannot take over this user.")
                self.message_user(request, message, messages.ERROR)
                return HttpResponseRedirect(change_url)
            self.message_user(
                request, gettext("You are now acting as %(user)s.") % {"user": user}, messages.SUCCESS
            )
            redirect_to = request.POST.get("next", request.GET.get("next", ""))
            return HttpResponseRedirect(_safe_next(request, redirect_to, takeover_landing_url(user)))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Take over %(user)s") % {"user": user},
            "subtitle": None,
            "opts": self.opts,
            "object": user,
            "form": form,
            "change_url": change_url,
            "next": request.GET.get("next", ""),
            "is_popup": False,
            # The admin's breadcrumbs became a list in Django 6.1: the same markup as its pages.
            "breadcrumbs_as_list": django.VERSION >= (6, 1),
        }
        request.current_app = self.admin_site.name
        status = 400 if form.is_bound else 200
        return TemplateResponse(request, self.takeover_confirmation_template, context, status=status)

    def _admin_url(self, view: str, user: AbstractBaseUser) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{view}",
            args=[quote(user.pk)],
            current_app=self.admin_site.name,
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict,
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context["takeover_parent_template"] = self._parent_change_form_template()
        if change and obj is not None:
            context["takeover_allowed"] = self._takeover_refusal(request, obj) is None
            context["takeover_url"] = self._admin_url("takeover", obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _takeover_refusal(self, request: HttpRequest, target: AbstractBaseUser) -> str | None:
        """Why ``request`` may not take over ``target`` (``rules.takeover_refusal``), or None."""
        token = getattr(request, "token", None)
        if not isinstance(token, Token):
            return gettext("Log in first.")
        # During a takeover request.user is the target: a nested takeover is refused anyway.
        if token.active_takeover_id is not None:
            return gettext("Release the current takeover first.")
        return rules.takeover_refusal(token.user, target)

    def _parent_change_form_template(self) -> Any:
        """Return the template this admin would use without the mixin (ours extends it)."""
        parent = super().change_form_template
        if isinstance(parent, str):
            names = [parent]
        elif parent:
            names = list(parent)
        else:
            opts = self.opts
            names = [
                f"admin/{opts.app_label}/{opts.model_name}/change_form.html",
                f"admin/{opts.app_label}/change_form.html",
                "admin/change_form.html",
            ]
        names = [name for name in names if name != TakeoverUserAdminMixin.change_form_template]
        return select_template(names or ["admin/change_form.html"])


def patch_user_admin(site: admin.AdminSite | None = None) -> None:
    """Re-register the user model's ModelAdmin on ``site`` with ``TakeoverUserAdminMixin`` first."""
    site = admin.site if site is None else site
    user_model = get_user_model()
    if not app_settings.TAKEOVER_USER_ADMIN or not site.is_registered(user_model):
        return
    model_admin = site.get_model_admin(user_model)
    if isinstance(model_admin, TakeoverUserAdminMixin):
        return
    cls = type(model_admin)
    site.unregister(user_model)
    site.register(user_model, type(f"Takeover{cls.__name__}", (TakeoverUserAdminMixin, cls), {}))


def _safe_next(request: HttpRequest, redirect_to: str, default: str) -> str:
    """``redirect_to`` when it stays on this site (over HTTPS for an HTTPS request), else ``default``."""
    if url_has_allowed_host_and_scheme(
        redirect_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect_to
    return default


class TakeoverBanner(SafeString):
    """A banner, as the first of the admin's messages: the admin renders its messages on every
    page, its login page included, whatever a project's ``base_site.html`` says."""

    tags = "warning"
    level = messages.WARNING


class InsecureCookieBanner(TakeoverBanner):
    tags = "error"
    level = messages.ERROR


class _AfterBanners:
    """The request's own messages, after the banners."""

    def __init__(self, banners: list[TakeoverBanner], stored: Iterable[Any]) -> None:
        self.banners, self.stored = banners, stored

    def __iter__(self) -> Iterator[Any]:
        yield from self.banners
        yield from self.stored

    def __len__(self) -> int:
        return len(self.banners) + len(self.stored)


def takeover_banner(request: HttpRequest, site: admin.AdminSite) -> TakeoverBanner | None:
    """The banner for a request that acts as another user: who, and a Release button that POSTs
    back to this page. None for any other request."""
    user = request_state.acting_as(request)
    if user is None:
        return None
    release = release_url(site.name)
    if release is None:
        return None
    return TakeoverBanner(
        format_html(
            '<form method="post" action="{}" class="auth-token-takeover">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">{} <input type="submit" value="{}"></form>',
            release,
            get_token(request),
            request.get_full_path(),
            gettext("You are acting as %(user)s.") % {"user": user},
            gettext("Release"),
        )
    )


def insecure_cookie_banner(request: HttpRequest) -> InsecureCookieBanner | None:
    """Why logging in here seems to do nothing: the browser drops the ``Secure`` cookie over http://."""
    if not rules.secure_cookie_dropped(request):
        return None
    return InsecureCookieBanner(
        format_html(
            "{}",
            gettext(
                "You cannot log in over an unencrypted connection: this site keeps you signed in "
                "with a cookie that browsers send only over HTTPS. Open it with https://, or with "
                "http://localhost on a development machine."
            ),
        )
    )


def show_takeover_banner(site: admin.AdminSite) -> None:
    """Show the banners on every page of ``site`` through its ``each_context``: during a takeover,
    who and Release; over http:// to a host whose browser drops the ``Secure`` cookie, why no
    login can work."""
    each_context = site.each_context
    if getattr(each_context, "shows_takeover_banner", False):
        return

    def each_context_with_banner(request: HttpRequest) -> dict[str, Any]:
        context = each_context(request)
        banners = [
            banner for banner in (takeover_banner(request, site), insecure_cookie_banner(request)) if banner
        ]
        if banners:
            context["messages"] = _AfterBanners(banners, get_messages(request))
        return context

    each_context_with_banner.shows_takeover_banner = True
    site.each_context = each_context_with_banner
