"""Request and response bodies of the token API. Views name them in class attributes to override."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from rest_framework import serializers

from auth_token import services
from auth_token.exceptions import InvalidClient
from auth_token.models import DEVICE_UUID_LENGTH, Client, DeviceKey, Token, TokenKind

INVALID_LOGIN = _("Unable to log in with these credentials.")
INVALID_DEVICE = _("Unable to log in with these device credentials.")
# Long enough for any passphrase; bounds the work a single request can ask of the hasher.
PASSWORD_MAX_LENGTH = 4096
# A device secret is about 60 characters; anything far longer cannot be one.
DEVICE_TOKEN_MAX_LENGTH = 256
NAME_MAX_LENGTH = Token._meta.get_field("name").max_length


class StrictCharField(serializers.CharField):
    """A CharField that accepts JSON strings only (DRF's also turns numbers into strings)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _name_field() -> StrictCharField:
    return StrictCharField(max_length=NAME_MAX_LENGTH, allow_blank=True, default="")


def _client_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="name",
        read_only=True,
        allow_null=True,
        help_text=_("The API client it was issued to, if any."),
    )


def _username_max_length() -> int:
    # As Django's AuthenticationForm.
    user_model = get_user_model()
    return user_model._meta.get_field(user_model.USERNAME_FIELD).max_length or 254


class TokenLoginSerializer(serializers.Serializer):
    """Credentials for a password login. ``username`` is the USERNAME_FIELD, whatever its name."""

    username = StrictCharField(max_length=_username_max_length())
    password = StrictCharField(
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )
    name = _name_field()
    remember = serializers.BooleanField(default=False)
    client = StrictCharField(
        required=False,
        max_length=50,
        help_text=_("The API client's name: its policy (lifetimes, scopes, token limit) applies."),
    )

    def validate_client(self, value: str) -> Client:
        # Before the password is checked: an unknown client costs no hash.
        try:
            return services.get_client(value)
        except InvalidClient as error:
            raise serializers.ValidationError(str(error), code="invalid_client") from None

    def validate_username(self, value: str) -> str:
        # As Django's UsernameField: compatibility characters compare equal.
        return unicodedata.normalize("NFKC", value)

    # Masked in error reports: ``attrs`` holds the password and the repr of ``self`` its data.
    @sensitive_variables()
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Django's authenticate() sends user_login_failed with the password masked.
        user = authenticate(
            request=self.context["request"]._request, username=attrs["username"], password=attrs["password"]
        )
        if user is None or not self.confirm_login_allowed(user):
            raise serializers.ValidationError(INVALID_LOGIN, code="invalid_login")
        attrs["user"] = user
        return attrs

    def confirm_login_allowed(self, user: Any) -> bool:
        """Return whether ``user`` may log in; refuses inactive users, as AuthenticationForm does.

        Unlike the form, the answer is the same as for a wrong password: an API client has
        nothing to show the difference to.
        """
        return user.is_active


class DeviceLoginSerializer(serializers.Serializer):
    """A device's UUID and secret. Wrong values all get one answer, from the view."""

    uuid = StrictCharField(allow_blank=True)
    device_token = StrictCharField(allow_blank=True, trim_whitespace=False, write_only=True)
    name = _name_field()

    @sensitive_variables()  # the device secret, as TokenLoginSerializer.validate
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Values too long to be credentials are refused without a query; their length is no secret.
        if len(attrs["uuid"]) > DEVICE_UUID_LENGTH or len(attrs["device_token"]) > DEVICE_TOKEN_MAX_LENGTH:
            raise serializers.ValidationError(INVALID_DEVICE, code="invalid_device")
        return attrs


class DeviceRegistrationSerializer(serializers.Serializer):
    uuid = StrictCharField(max_length=DEVICE_UUID_LENGTH)
    name = _name_field()


class PersonalTokenRequestSerializer(serializers.Serializer):
    """What a new personal access token should be."""

    name = StrictCharField(max_length=NAME_MAX_LENGTH)
    scopes = serializers.ListField(
        child=StrictCharField(max_length=100),
        required=False,
        allow_empty=True,
        max_length=100,
        help_text=_("Declared scopes, within this request's own; left out: all of them."),
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("At most AUTH_TOKEN_PAT_MAX_AGE ahead; null: that maximum."),
    )
    no_expiry = serializers.BooleanField(
        default=False, help_text=_("Never expire; only where AUTH_TOKEN_PAT_ALLOW_NO_EXPIRY is on.")
    )


class PersonalTokenSerializer(serializers.ModelSerializer):
    """One of the user's personal access tokens. Never the key."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Token
        fields = ("id", "name", "scopes", "created_at", "last_access", "expires_at")
        read_only_fields = fields


class CreatedPersonalTokenSerializer(PersonalTokenSerializer):
    """A creation's answer. ``token`` is the raw token, shown this once."""

    token = serializers.SerializerMethodField()

    class Meta(PersonalTokenSerializer.Meta):
        fields = ("token", *PersonalTokenSerializer.Meta.fields)
        read_only_fields = fields

    def get_token(self, token: Token) -> str:
        return self.context["raw_token"]


class LogoutAllSerializer(serializers.Serializer):
    keep_current = serializers.BooleanField(default=False, help_text=_("Keep the token of this request."))


_USER_PK_NAME = get_user_model()._meta.pk.name


class TokenUserSerializer(serializers.ModelSerializer):
    """The user in a login response: ``{id, username}``; ``username`` is ``get_username()``."""

    if _USER_PK_NAME != "id":
        # A model field (not the ``pk`` property) as source, so the schema knows its type.
        id = serializers.ReadOnlyField(source=_USER_PK_NAME)
    username = serializers.CharField(source="get_username", read_only=True)

    class Meta:
        model = get_user_model()
        fields = ("id", "username")


class IssuedTokenSerializer(serializers.Serializer):
    """A login's answer. ``token`` is the raw value, shown this once."""

    token = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
    id = serializers.UUIDField(read_only=True, help_text=_("The token's public id."))
    user = TokenUserSerializer(read_only=True)


class CurrentTokenSerializer(serializers.ModelSerializer):
    """The request's own token, for ``me/``. Never the key."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(
        choices=TokenKind.choices,
        read_only=True,
        help_text=_("session, personal (access token), device (minted by a device login) or import."),
    )
    scopes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_('What the token may be used for; ["*"]: every declared scope.'),
    )
    client = _client_field()
    long_lived = serializers.SerializerMethodField(help_text=_('Issued with "remember me" (MAX_TOKEN_AGE).'))
    source = serializers.CharField(
        read_only=True, help_text=_("Where this request carried it: header or cookie.")
    )

    class Meta:
        model = Token
        fields = (
            "id",
            "name",
            "kind",
            "client",
            "scopes",
            "long_lived",
            "source",
            "created_at",
            "expires_at",
        )
        read_only_fields = fields

    def get_long_lived(self, token: Token) -> bool:
        return not token.expiration


class TakeoverSummarySerializer(serializers.Serializer):
    """Who is acting, during a takeover: the token's owner."""

    actor = TokenUserSerializer(read_only=True)
    started_at = serializers.DateTimeField(read_only=True)


class MeSerializer(serializers.Serializer):
    """``me/``: the user the request acts as, its token, and the takeover if one holds."""

    user = TokenUserSerializer(read_only=True)
    token = CurrentTokenSerializer(read_only=True)
    takeover = TakeoverSummarySerializer(read_only=True, allow_null=True)


class RenewalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Token
        fields = ("expires_at",)
        read_only_fields = fields


class TokenSessionSerializer(serializers.ModelSerializer):
    """One of the user's tokens, for a list of sessions. Never the key."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    browser = serializers.CharField(read_only=True)
    os = serializers.CharField(read_only=True)
    device_type = serializers.CharField(read_only=True)
    is_current = serializers.SerializerMethodField()
    client = _client_field()

    class Meta:
        model = Token
        fields = (
            "id",
            "name",
            "kind",
            "client",
            "created_at",
            "last_access",
            "ip",
            "browser",
            "os",
            "device_type",
            "is_current",
        )
        read_only_fields = fields

    def get_is_current(self, token: Token) -> bool:
        current = getattr(self.context.get("request"), "auth", None)
        return isinstance(current, Token) and current.pk == token.pk


class DeviceKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceKey
        fields = ("id", "uuid", "name", "is_active", "created_at", "last_login")
        read_only_fields = fields


class RegisteredDeviceSerializer(serializers.ModelSerializer):
    """A registration's answer. ``device_token`` is the device secret, shown this once."""

    device_token = serializers.SerializerMethodField()

    class Meta:
        model = DeviceKey
        fields = ("id", "uuid", "name", "device_token")
        read_only_fields = fields

    def get_device_token(self, device: DeviceKey) -> str:
        return self.context["device_token"]


class ErrorDetailSerializer(serializers.Serializer):
    """The body of an error other than a validation error (for the schema)."""

    detail = serializers.CharField()
