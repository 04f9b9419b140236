from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from auth_token.exceptions import InvalidPersonalToken
from auth_token.scopes import UnknownScope
from auth_token.services import NO_EXPIRY, create_personal_token


class Command(BaseCommand):
    help = "Create a personal access token for a user and print it, once: it is stored only as a digest."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user's USERNAME_FIELD value.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'deploy script'.")
        parser.add_argument(
            "--scopes",
            default=None,
            help="Comma-separated declared scopes, e.g. 'orders:read'. Default: every scope.",
        )
        parser.add_argument(
            "--expires-in",
            default=None,
            help=(
                "Days until it expires, or 'never' (with AUTH_TOKEN_PAT_ALLOW_NO_EXPIRY). "
                "Default: AUTH_TOKEN_PAT_MAX_AGE."
            ),
        )

    def handle(self, *args, username, name, scopes, expires_in, **options):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        try:
            _, raw = create_personal_token(
                None,
                user=user,
                name=name,
                scopes=None
                if scopes is None
                else [scope.strip() for scope in scopes.split(",") if scope.strip()],
                expires_at=self.expiry(expires_in),
            )
        except (InvalidPersonalToken, UnknownScope) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(raw)

    @staticmethod
    def expiry(expires_in):
        if expires_in is None:
            return None
        if expires_in == "never":
            return NO_EXPIRY
        try:
            days = int(expires_in)
        except ValueError:
            raise CommandError("--expires-in takes a number of days or 'never'.") from None
        if days < 1:
            raise CommandError("--expires-in must be at least one day.")
        return timezone.now() + timedelta(days=days)
