import factory
from django.contrib.auth import get_user_model

from auth_token import services
from auth_token.models import UserTokenTakeover


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = (get_user_model().USERNAME_FIELD,)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("password")


def issue_token(user, request=None, **options):
    """Return ``(token, raw)`` for ``user`` through the real service."""
    options.setdefault("backend", "django.contrib.auth.backends.ModelBackend")
    return services.login(request, user, **options)


def make_takeover(token, actor, user, **fields):
    """Return a UserTokenTakeover row for ``token`` (a bare row; services.takeover() makes real ones)."""
    return UserTokenTakeover.objects.create(
        token=token,
        actor=actor,
        user=user,
        actor_repr=str(actor),
        user_repr=str(user),
        session_auth_hash=user.get_session_auth_hash(),
        **fields,
    )
