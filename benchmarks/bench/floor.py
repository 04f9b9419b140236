"""The ``floor`` system: what any DRF authentication pays before it looks anything up."""

from django.contrib.auth import get_user_model
from rest_framework.authentication import BaseAuthentication


class FixedUser(BaseAuthentication):
    """Authenticates every request as the benchmark's user, read once per process."""

    user = None

    def authenticate(self, request):
        if FixedUser.user is None:
            FixedUser.user = get_user_model().objects.get(username="bench")
        return FixedUser.user, None
