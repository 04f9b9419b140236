from django.apps import apps
from django.conf import settings as django_settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from auth_token import services
from auth_token.backends import default_backend


class Command(BaseCommand):
    help = (
        "Create a token for every rest_framework.authtoken token, storing only a digest, so that "
        "clients keep working with AUTH_TOKEN_LEGACY_HEADER_TOKEN_TYPES = ('Token',)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="Tokens created per query.")
        parser.add_argument(
            "--backend",
            default=None,
            help="Authentication backend recorded on the tokens (default: the first that loads users).",
        )
        parser.add_argument(
            "--delete-imported",
            action="store_true",
            help="Delete DRF's rows once imported. Without it they stay, as the way back.",
        )

    # DRF's keys are live credentials: its rows (whose str() is the key), the key as the last
    # primary key, and the queries made with it stay out of error reports.
    @sensitive_variables()
    def handle(self, *args, batch_size, backend, delete_imported, verbosity, **options):
        if not apps.is_installed("rest_framework.authtoken"):
            raise CommandError("rest_framework.authtoken is not in INSTALLED_APPS: nothing to import.")
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive number.")
        backend = backend or default_backend()
        if backend not in django_settings.AUTHENTICATION_BACKENDS:
            raise CommandError(f"{backend} is not in AUTHENTICATION_BACKENDS.")
        from rest_framework.authtoken.models import Token as DrfToken

        imported = skipped = 0
        last_pk = ""
        while True:
            # Keyset pagination on DRF's primary key (the key itself): bounded memory on any database.
            batch = list(
                DrfToken.objects.select_related("user").filter(pk__gt=last_pk).order_by("pk")[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            with transaction.atomic():
                created = services.import_legacy_tokens(
                    [(drf_token.key, drf_token.user) for drf_token in batch], backend=backend
                )
                if delete_imported:
                    DrfToken.objects.filter(pk__in=[drf_token.pk for drf_token in batch]).delete()
            imported += created
            skipped += len(batch) - created
        if verbosity > 0:
            self.stdout.write(f"{imported} tokens imported, {skipped} already imported.")
