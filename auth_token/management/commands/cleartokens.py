from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from auth_token import services
from auth_token.cache import invalidate_tokens
from auth_token.contrib.rest_framework.legacy import retire_drf_keys
from auth_token.models import Token


class Command(BaseCommand):
    help = "Delete expired and revoked tokens, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Tokens deleted per query.")
        parser.add_argument("--dry-run", action="store_true", help="Count the tokens; delete nothing.")

    def handle(self, *args, batch_size, dry_run, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive number.")
        stale = Token.objects.filter(Q(is_active=False) | Q(expires_at__lte=timezone.now()))
        if dry_run:
            self.stdout.write(f"{stale.count()} tokens would be deleted.")
            return
        progress = verbosity > 0 and self.stdout.isatty()
        deleted = 0
        while True:
            # Fetch ids, then delete by id: sliced deletes and LIMIT subqueries fail on MariaDB.
            rows = list(stale.order_by("pk").values_list("pk", "key", "user_id")[:batch_size])
            if not rows:
                break
            ids = [pk for pk, _, _ in rows]
            invalidate_tokens([key for _, key, _ in rows])
            # An imported DRF key must not work again through DRF's class once its token is gone.
            retire_drf_keys([(key, user_id) for _, key, user_id in rows])
            # A takeover outlives its token as an audit record, but no longer as an active one.
            services.close_takeovers_of_stale_tokens(ids)
            Token.objects.filter(pk__in=ids).delete()
            deleted += len(ids)
            if progress:
                self.stdout.write(f"\r{deleted} tokens deleted", ending="")
                self.stdout.flush()
        if progress:
            self.stdout.write("")
        if verbosity > 0:
            self.stdout.write(f"{deleted} tokens deleted.")
