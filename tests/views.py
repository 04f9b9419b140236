"""Views that touch no session, so query counts measure the token alone."""

from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as django_login_function
from django.contrib.auth import logout as django_logout_function
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, JsonResponse
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.authentication import TokenAuthentication as DrfTokenAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from auth_token import services
from auth_token.contrib.rest_framework.authentication import TokenAuthentication
from auth_token.contrib.rest_framework.permissions import AllowClients, DenyClients, TokenHasReadWriteScope
from auth_token.contrib.rest_framework.throttling import ClientRateThrottle
from auth_token.decorators import renewal_exempt, scope_required, token_required


def _describe(user, token):
    return {
        "user": user.get_username() if user.is_authenticated else None,
        "token": str(token.public_id) if token.is_authenticated else None,
        "source": token.source,
    }


def me(request):
    return JsonResponse(_describe(request.user, request.token))


async def me_async(request):
    user = await request.auser()
    token = await request.atoken()
    return JsonResponse(_describe(user, token))


def anonymous(request):
    return HttpResponse("no user")


def post(request):
    return JsonResponse(_describe(request.user, request.token))


@token_required
def protected(request):
    return HttpResponse("secret")


@renewal_exempt
def exempt(request):
    return JsonResponse(_describe(request.user, request.token))


def django_password_change(request):
    """A third-party view: changes the password and calls Django's update_session_auth_hash()."""
    request.user.set_password(request.POST["password"])
    request.user.save()
    update_session_auth_hash(request, request.user)
    return HttpResponse(status=204)


def django_login(request):
    """A third-party login view: authenticates and calls Django's login()."""
    user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
    django_login_function(request, user)
    return HttpResponse(status=204)


def django_logout(request):
    django_logout_function(request)
    return HttpResponse(status=204)


def renew(request):
    services.renew(request)
    return HttpResponse()


def logout(request):
    services.logout(request)
    return HttpResponse(status=204)


class DrfMigrationView(APIView):
    """A project's view during a move from DRF's authtoken, set up as the migration guide says."""

    authentication_classes = (TokenAuthentication, DrfTokenAuthentication)
    permission_classes = (IsAuthenticated,)
    schema = None  # not part of the API under test

    def get(self, request):
        return Response({"user": request.user.get_username()})


# Scopes: a resource whose view needs both the user's permission (auth.view_user) and the
# token's scope, as a project's views would.


class HasViewUser(BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("auth.view_user")


class OrdersView(APIView):
    authentication_classes = (TokenAuthentication,)
    # The scope first: it reads only the token, where the permission check queries.
    permission_classes = (IsAuthenticated, TokenHasReadWriteScope, HasViewUser)
    required_scopes = ("orders",)
    schema = None  # not part of the API under test

    def get(self, request):
        return Response({"orders": []})

    def post(self, request):
        return Response({"created": True}, status=201)


@scope_required("orders:read")
@permission_required("auth.view_user", raise_exception=True)
def plain_orders(request):
    return JsonResponse({"orders": []})


@scope_required("orders:read")
async def plain_orders_async(request):
    return JsonResponse({"orders": []})


class DefaultAuthenticationOrdersView(OrdersView):
    """DRF's default authentication classes (SessionAuthentication takes the middleware's user)."""

    authentication_classes = (SessionAuthentication, BasicAuthentication)


class CliOnlyView(APIView):
    """Only the "cli" client's tokens, each user of it throttled at the client's rate."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated, AllowClients("cli"))
    throttle_classes = (ClientRateThrottle,)
    schema = None  # not part of the API under test

    def get(self, request):
        return Response({"client": request.auth.client.name})


class NoKioskView(APIView):
    authentication_classes = (TokenAuthentication,)
    permission_classes = (IsAuthenticated, DenyClients("kiosk"))
    throttle_classes = (ClientRateThrottle,)
    schema = None  # not part of the API under test

    def get(self, request):
        return Response({"ok": True})


class DefaultAuthenticationNoKioskView(NoKioskView):
    authentication_classes = (SessionAuthentication, BasicAuthentication)
