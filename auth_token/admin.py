"""The admin: tokens, device keys and the takeover audit log; taking over a user from the user admin.

- ``TokenAdmin`` and ``DeviceKeyAdmin`` are read-only but for ``name``, which is saved with
  ``update_fields=["name"]``: a full ``save()`` writes back every column as it was read and could
  revive a token revoked (or un-renew one renewed) since. There is no add form (it would mint a
  credential whose raw value nobody sees). Digests and session auth hashes are never shown and
  cannot be filtered on, as Django's ``UserAdmin`` refuses ``password`` lookups. Revoking and
  deactivating are actions that call ``services``; deleting revokes (or deactivates) first, so the
  token cache, ``token_revoked`` receivers and an active takeover's audit record learn of it.
- ``UserTokenTakeoverAdmin`` is the takeover audit log: view only, nothing added, changed or deleted
  (its rows outlive tokens and users).
- ``TakeoverUserAdminMixin`` gives a user ``ModelAdmin`` the action ``takeover_user`` ("Take over
  this user", one user at a time) and a button on the change page, POST + CSRF only. The rules are
  ``rules.takeover_refusal``'s; the action is offered to users with ``auth_token.takeover_user``, or to
  every admin user when ``AUTH_TOKEN_TAKEOVER_PERMISSION`` is set (it decides per target).

Importing this module only registers the model admins. With ``AUTH_TOKEN_TAKEOVER_USER_ADMIN =
True`` (the default), ``AuthTokenConfig.ready()`` calls ``patch_user_admin()`` once the admin has
autodiscovered: the user model's ``ModelAdmin`` on ``admin.site`` is re-registered as a subclass
with ``TakeoverUserAdminMixin`` first (``UserAdmin`` becomes ``TakeoverUserAdmin``), whatever the
order of ``INSTALLED_APPS``. An admin that already has the mixin is left alone. System check
``auth_token.W006`` warns when there is no user admin to extend (e.g. one registered by hand
later, with ``SimpleAdminConfig``): add ``TakeoverUserAdminMixin`` to it, or set
``AUTH_TOKEN_TAKEOVER_USER_ADMIN = False``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.loader import select_template
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from auth_token import rules, services
from auth_token.backends import normalize_device_uuid
from auth_token.conf import settings as app_settings
from auth_token.exceptions import TakeoverNotAllowed
from auth_token.models import DeviceKey, Token, UserTokenTakeover
from auth_token.reasons import RevokeReason

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

__all__ = [
    "DeviceKeyAdmin",
    "TakeoverUserAdminMixin",
    "TokenAdmin",
    "UserTokenTakeoverAdmin",
    "patch_user_admin",
]


def user_search_fields(prefix: str = "user__") -> list[str]:
    """Return the user model's username field, and its email field when it has one, as lookups."""
    user_model = get_user_model()
    names = [user_model.USERNAME_FIELD]
    email = user_model.get_email_field_name()
    try:
        user_model._meta.get_field(email)
    except FieldDoesNotExist:
        pass
    else:
        if email not in names:
            names.append(email)
    return [prefix + name for name in names]


class ExpiredFilter(admin.SimpleListFilter):
    title = _("expired")
    parameter_name = "expired"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "yes":
            return queryset.filter(expires_at__lte=timezone.now())
        if self.value() == "no":
            return queryset.filter(expires_at__gt=timezone.now())
        return None


class CredentialAdmin(admin.ModelAdmin):
    """Shared by the token and device key admins: no add form, only ``name`` editable, secrets hidden."""

    # Never shown (left out of ``fields`` and excluded) and never accepted as a changelist lookup.
    secret_fields: tuple[str, ...] = ()
    list_select_related = ("user",)
    # Token tables grow large: skip the second COUNT(*) of a filtered changelist.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An add form could mint a credential without showing its raw value once.
        return False

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return [*user_search_fields(), *self.search_fields]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # As UserAdmin refuses "password": the query string must not probe a digest.
        if lookup.split("__", 1)[0] in self.secret_fields:
            return False
        return super().lookup_allowed(lookup, value, request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Only the name: a full save() writes back every column as read, which could revive a
        # token revoked (or undo a renewal) since this request loaded it.
        obj.save(update_fields=["name"])

    @admin.display(description=_("client"))
    def client(self, obj: Token | DeviceKey) -> str:
        return f"{obj.browser} / {obj.os} ({obj.device_type})"


@admin.register(Token)
class TokenAdmin(CredentialAdmin):
    list_display = ("user", "name", "client", "ip", "created_at", "last_access", "expires_at", "is_active")
    list_filter = ("is_active", ExpiredFilter)
    search_fields = ("=ip",)
    secret_fields = ("key", "session_auth_hash")
    exclude = secret_fields
    fields = (
        "public_id",
        "user",
        "name",
        "is_active",
        "expiration",
        "created_at",
        "last_access",
        "expires_at",
        "client",
        "user_agent",
        "ip",
        "device",
        "active_takeover",
        "backend",
        "auth_slug",
        "allowed_cookie",
        "allowed_header",
    )
    readonly_fields = tuple(name for name in fields if name != "name")
    actions = ("revoke_selected",)

    @admin.action(permissions=["change"], description=_("Revoke selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sum(
            services.revoke(token, request=request, reason=RevokeReason.REVOKED)
            for token in queryset.filter(is_active=True)
        )
        message = ngettext("%(count)d token was revoked.", "%(count)d tokens were revoked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: Token) -> None:
        services.delete_tokens(Token.objects.filter(pk=obj.pk), request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_tokens(queryset, request=request)


@admin.register(DeviceKey)
class DeviceKeyAdmin(CredentialAdmin):
    list_display = ("uuid", "user", "name", "is_active", "created_at", "last_login")
    list_filter = ("is_active",)
    search_fields = ("uuid",)
    secret_fields = ("login_token", "session_auth_hash")
    exclude = secret_fields
    fields = ("uuid", "user", "name", "is_active", "created_at", "last_login", "client", "user_agent")
    readonly_fields = tuple(name for name in fields if name != "name")
    actions = ("deactivate_selected",)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> Any:
        # UUIDs are stored as 32 lowercase hex: a pasted hyphenated UUID must find its device.
        term = search_term.strip()
        normalized = normalize_device_uuid(term) if term else term
        return super().get_search_results(request, queryset, normalized)

    @admin.action(permissions=["change"], description=_("Deactivate selected devices"))
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = sum(
            services.deactivate_device(device, request=request) for device in queryset.filter(is_active=True)
        )
        message = ngettext("%(count)d device was deactivated.", "%(count)d devices were deactivated.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def delete_model(self, request: HttpRequest, obj: DeviceKey) -> None:
        services.delete_devices(DeviceKey.objects.filter(pk=obj.pk), request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_devices(queryset, request=request)


@admin.register(UserTokenTakeover)
class UserTokenTakeoverAdmin(admin.ModelAdmin):
    """The audit log: view only; its rows outlive tokens and users."""

    list_display = (
        "actor_repr",
        "user_repr",
        "token_public_id",
        "created_at",
        "ended_at",
        "end_reason",
        "is_active",
        "ip",
        "reason",
    )
    # A date filter, not date_hierarchy: that needs MariaDB's time zone tables, often missing.
    list_filter = ("is_active", "end_reason", "created_at")
    list_select_related = ("token",)
    search_fields = ("actor_repr", "user_repr", "=ip")
    exclude = ("session_auth_hash",)
    fields = (
        "actor",
        "actor_repr",
        "user",
        "user_repr",
        "token",
        "token_public_id",
        "reason",
        "created_at",
        "ended_at",
        "end_reason",
        "is_active",
        "ip",
        "client",
        "user_agent",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup.split("__", 1)[0] == "session_auth_hash":
            return False
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("token"), ordering="token__public_id")
    def token_public_id(self, obj: UserTokenTakeover) -> Any:
        return obj.token.public_id if obj.token_id is not None else None

    @admin.display(description=_("client"))
    def client(self, obj: UserTokenTakeover) -> str:
        return f"{obj.browser} / {obj.os} ({obj.device_type})"


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
