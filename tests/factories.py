import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import RequestFactory

from auth_token import services
from auth_token import state as request_state
from auth_token.reasons import TakeoverEndReason


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


def start_takeover(token, target, *, reason="", ip="127.0.0.1", user_agent=""):
    """Make ``token`` act as ``target`` through ``services.takeover``; return the audit record.

    The token's owner is given what the rule asks of an actor: active staff with the takeover
    permission (a superuser when ``target`` is one or holds rights the owner lacks).
    """
    actor = token.user
    actor.is_active = actor.is_staff = True
    if target.is_superuser or target.is_staff or target.get_all_permissions():
        actor.is_superuser = True
    actor.save(update_fields=["is_active", "is_staff", "is_superuser"])
    actor.user_permissions.add(
        Permission.objects.get(codename="takeover_user", content_type__app_label="auth_token")
    )
    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
    request_state.act_as(request, token, actor)
    record = services.takeover(request, target, reason=reason)
    token.active_takeover = record
    return record


def end_takeover(token, reason=TakeoverEndReason.RELEASED):
    """End ``token``'s takeover through the service that ``reason`` stands for."""
    request = RequestFactory().post("/")
    request_state.act_as(request, token, token.user)
    services.release_takeover(request, reason=reason)
