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
- ``TakeoverUserAdminMixin`` (from ``auth_token.admin_takeover``, importable from here) adds the
  takeover to a user admin; ``AuthTokenConfig.ready()`` adds it to the registered one.

Importing this module only registers the model admins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from auth_token import scopes, services, throttling
from auth_token.admin_takeover import TakeoverUserAdminMixin, patch_user_admin
from auth_token.backends import normalize_device_uuid
from auth_token.models import Client, DeviceKey, Token, UserTokenTakeover
from auth_token.reasons import RevokeReason

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.models import QuerySet
    from django.http import HttpRequest

__all__ = [
    "ClientAdmin",
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


class AuthTokenAdminMedia:
    css = {"all": ["auth_token/admin.css"]}


class CredentialAdmin(admin.ModelAdmin):
    """Shared by the token and device key admins: no add form, only ``name`` editable, secrets hidden."""

    Media = AuthTokenAdminMedia

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

    @admin.display(description=_("browser"))
    def browser_and_system(self, obj: Token | DeviceKey) -> str:
        return obj.client_name


def token_status(token: Token, now: datetime | None = None) -> str:
    """ "Active, expires in 52 minutes", "Expired 3 hours ago" or "Revoked", the exact expiry on hover."""
    now = timezone.now() if now is None else now
    if not token.is_active:
        text = gettext("Revoked")
    elif token.expires_at <= now:
        text = gettext("Expired %(time)s ago") % {"time": timesince(token.expires_at, now, depth=1)}
    else:
        text = gettext("Active, expires in %(time)s") % {"time": timeuntil(token.expires_at, now, depth=1)}
    exact = formats.localize(timezone.localtime(token.expires_at))
    return format_html('<span title="{}">{}</span>', exact, text)


@admin.register(Token)
class TokenAdmin(CredentialAdmin):
    # Narrow enough for 1280 pixels: the name falls back to "Chrome on macOS", the status carries
    # the expiry; the detail page has every field.
    list_display = ("user", "display_name", "ip", "last_access", "status")
    list_filter = ("is_active", ExpiredFilter, "kind", "client")
    search_fields = ("=ip",)
    secret_fields = ("key", "session_auth_hash")
    exclude = secret_fields
    fields = (
        "public_id",
        "user",
        "name",
        "kind",
        "scopes",
        "is_active",
        "expiration",
        "created_at",
        "last_access",
        "expires_at",
        "client",
        "browser_and_system",
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

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, obj: Token) -> str:
        return obj.display_name

    @admin.display(description=_("status"), ordering="expires_at")
    def status(self, obj: Token) -> str:
        return token_status(obj)

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
    fields = (
        "uuid",
        "user",
        "name",
        "is_active",
        "created_at",
        "last_login",
        "browser_and_system",
        "user_agent",
    )
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


class EmptyForNoneJSONField(forms.JSONField):
    """Shows no value as an empty box, not ``null``: the help text says what empty means."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value is None else super().prepare_value(value)


class ClientForm(forms.ModelForm):
    """Refuses what ``services.save_client`` would: an undeclared scope, a rate that is not one."""

    class Meta:
        field_classes = {"allowed_scopes": EmptyForNoneJSONField}
        model = Client
        fields = (
            "name",
            "is_active",
            "allow_cookie",
            "allow_header",
            "idle_age",
            "remember_age",
            "absolute_age",
            "max_tokens_per_user",
            "throttle_rate",
            "allowed_scopes",
        )

    def clean_allowed_scopes(self) -> list[str] | None:
        value = self.cleaned_data.get("allowed_scopes")
        if value is None:
            return None
        if not isinstance(value, list):
            raise forms.ValidationError(_('A list of scopes, such as ["orders:read"].'))
        try:
            return scopes.clean(value)
        except scopes.UnknownScope as error:
            raise forms.ValidationError(str(error)) from None

    def clean_throttle_rate(self) -> str:
        value = self.cleaned_data.get("throttle_rate", "")
        if value:
            try:
                throttling.parse_rate(value)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return value


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """API clients; saving one that no longer allows what its tokens hold revokes them."""

    Media = AuthTokenAdminMedia
    form = ClientForm
    list_display = ("name", "is_active", "idle_age", "remember_age", "throttle_rate", "max_tokens_per_user")
    list_filter = ("is_active",)
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        ended = services.save_client(obj, request=request)
        if ended:
            message = ngettext(
                "%(count)d token of this client was revoked.",
                "%(count)d tokens of this client were revoked.",
                ended,
            )
            self.message_user(request, message % {"count": ended}, messages.WARNING)


@admin.register(UserTokenTakeover)
class UserTokenTakeoverAdmin(admin.ModelAdmin):
    """The audit log: view only; its rows outlive tokens and users."""

    Media = AuthTokenAdminMedia

    # Narrow enough for 1280 pixels, the reason early; the token, IP and client are on the detail.
    list_display = ("actor_repr", "user_repr", "reason", "created_at", "ended_at", "end_reason")
    # A date filter, not date_hierarchy: that needs MariaDB's time zone tables, often missing.
    list_filter = ("is_active", "end_reason", "created_at")
    list_select_related = ("token",)
    search_fields = ("actor_repr", "user_repr", "=ip")
    exclude = ("session_auth_hash",)
    # Each field once: the names kept at the time, linked to the user while the user exists.
    fields = (
        "actor_link",
        "user_link",
        "token_public_id",
        "reason",
        "created_at",
        "ended_at",
        "end_reason",
        "is_active",
        "ip",
        "browser_and_system",
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

    @admin.display(description=_("actor"))
    def actor_link(self, obj: UserTokenTakeover) -> str:
        return self._user_link(obj.actor_id, obj.actor_repr)

    @admin.display(description=_("user taken over"))
    def user_link(self, obj: UserTokenTakeover) -> str:
        return self._user_link(obj.user_id, obj.user_repr)

    def _user_link(self, user_id: Any, name: str) -> str:
        opts = get_user_model()._meta
        if user_id is None or not self.admin_site.is_registered(get_user_model()):
            return name
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[quote(user_id)],
            current_app=self.admin_site.name,
        )
        return format_html('<a href="{}">{}</a>', url, name)

    @admin.display(description=_("token"), ordering="token__public_id")
    def token_public_id(self, obj: UserTokenTakeover) -> Any:
        return obj.token.public_id if obj.token_id is not None else None

    @admin.display(description=_("browser"))
    def browser_and_system(self, obj: UserTokenTakeover) -> str:
        return obj.client_name
