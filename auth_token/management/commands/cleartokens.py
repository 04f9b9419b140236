from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from auth_token.contrib.rest_framework.legacy import retire_drf_keys
from auth_token.models import Token
from auth_token.services import delete_stale_tokens


class Command(BaseCommand):
    help = "Delete expired and revoked tokens, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Tokens deleted per query.")
        parser.add_argument("--dry-run", action="store_true", help="Count the tokens; delete nothing.")

    def handle(self, *args, batch_size, dry_run, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive number.")
        if dry_run:
            stale = Token.objects.filter(Q(is_active=False) | Q(expires_at__lte=timezone.now()))
            self.stdout.write(f"{stale.count()} tokens would be deleted.")
            return
        progress = verbosity > 0 and self.stdout.isatty()
        deleted = 0
        # An imported DRF key must not work again through DRF's class once its token is gone.
        while batch := delete_stale_tokens(batch_size, before_delete=retire_imported_keys):
            deleted += batch
            if progress:
                self.stdout.write(f"\r{deleted} tokens deleted", ending="")
                self.stdout.flush()
        if progress:
            self.stdout.write("")
        if verbosity > 0:
            self.stdout.write(f"{deleted} tokens deleted.")


def retire_imported_keys(tokens: list[Token]) -> None:
    retire_drf_keys([(token.key, token.user_id) for token in tokens])
