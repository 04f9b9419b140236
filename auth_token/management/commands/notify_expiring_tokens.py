from django.core.management.base import BaseCommand, CommandError

from auth_token.services import notify_expiring_tokens


class Command(BaseCommand):
    help = (
        "Send the token_expiring signal for each personal access token that expires within --days "
        "(AUTH_TOKEN_PAT_NOTIFY_DAYS), once per token: run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="Days ahead (default: AUTH_TOKEN_PAT_NOTIFY_DAYS)."
        )

    def handle(self, *args, days, verbosity, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be zero or more.")
        sent = notify_expiring_tokens(days)
        if verbosity > 0:
            self.stdout.write(f"{sent} expiring tokens notified.")
