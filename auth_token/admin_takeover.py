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

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.loader import select_template
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from auth_token import rules, services
from auth_token.conf import settings as app_settings
from auth_token.exceptions import TakeoverNotAllowed
from auth_token.models import Token

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse


class TakeoverUserAdminMixin:
    """Taking over a user from a user ``ModelAdmin``: an action and a button, POST + CSRF only."""

    change_form_template = "admin/auth_token/user/change_form.html"

    def get_urls(self) -> list:
        opts = self.opts
        return [
            path(
                "<path:object_id>/takeover/",
                self.admin_site.admin_view(self.takeover_view),
                name=f"{opts.app_label}_{opts.model_name}_takeover",
            ),
            *super().get_urls(),
        ]

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
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, gettext("Select exactly one user to take over."), messages.ERROR)
            return None
        return self._takeover(request, users[0], refused=None)

    def takeover_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # None for an unknown id and for one the primary key cannot hold ("abc", huge numbers).
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        opts = self.opts
        change_url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(user.pk)],
            current_app=self.admin_site.name,
        )
        return self._takeover(request, user, refused=HttpResponseRedirect(change_url))

    def _takeover(
        self, request: HttpRequest, user: AbstractBaseUser, *, refused: HttpResponse | None
    ) -> HttpResponse | None:
        try:
            services.takeover(request, user)
        except TakeoverNotAllowed as error:
            message = error.args[0] if error.args else gettext("You cannot take over this user.")
            self.message_user(request, message, messages.ERROR)
            return refused
        self.message_user(
            request, gettext("You are now acting as %(user)s.") % {"user": user}, messages.SUCCESS
        )
        redirect_to = request.POST.get("next", request.GET.get("next", ""))
        if not url_has_allowed_host_and_scheme(
            redirect_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            redirect_to = resolve_url(app_settings.TAKEOVER_REDIRECT_URL)
        return HttpResponseRedirect(redirect_to)

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
            context["takeover_allowed"] = self._takeover_allowed(request, obj)
            opts = self.opts
            context["takeover_url"] = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_takeover",
                args=[quote(obj.pk)],
                current_app=self.admin_site.name,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def _takeover_allowed(request: HttpRequest, target: AbstractBaseUser) -> bool:
        token = getattr(request, "token", None)
        # During a takeover request.user is the target: a nested takeover is refused anyway.
        if not isinstance(token, Token) or token.active_takeover_id is not None:
            return False
        return rules.takeover_refusal(token.user, target) is None

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
