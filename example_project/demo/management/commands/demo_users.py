from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from auth_token.models import Client

# username, password, is_staff, is_superuser
USERS = [
    ("admin", "admin", True, True),
    ("alice", "alice", False, False),
    ("bob", "bob", True, False),
]


class Command(BaseCommand):
    help = (
        "Create or reset the demo users admin/admin (superuser), alice/alice and bob/bob (staff), "
        'and the API client "kiosk" (tokens idle for 10 minutes at most).'
    )

    def handle(self, *args, **options):
        User = get_user_model()
        for username, password, is_staff, is_superuser in USERS:
            user, created = User._default_manager.get_or_create(
                **{User.USERNAME_FIELD: username},
                defaults={"email": f"{username}@example.com"},
            )
            user.is_active, user.is_staff, user.is_superuser = True, is_staff, is_superuser
            # Only when it differs: a new hash would sign the user out of every token.
            reset = not created and not user.check_password(password)
            if created or reset:
                user.set_password(password)
            user.save()
            role = "superuser" if is_superuser else "staff" if is_staff else "user"
            action = "created" if created else "password reset" if reset else "unchanged"
            self.stdout.write(f"{username:<6} password={password:<6} {role:<9} ({action})")
        Client.objects.update_or_create(name="kiosk", defaults={"idle_age": 600, "remember_age": 600})
        self.stdout.write('API client "kiosk": tokens idle for 10 minutes at most')
