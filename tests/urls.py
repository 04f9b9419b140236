from django.contrib import admin
from django.urls import include, path

from tests import views

urlpatterns = [
    path("", views.anonymous, name="home"),
    path("admin/", admin.site.urls),
    path("auth/", include("auth_token.urls")),
    path("api/", include("auth_token.contrib.rest_framework.urls")),
    path("me/", views.me, name="me"),
    path("me-async/", views.me_async),
    path("anonymous/", views.anonymous),
    path("post/", views.post),
    path("protected/", views.protected),
    path("exempt/", views.exempt),
    path("logout/", views.logout),
    path("renew/", views.renew),
    path("django-login/", views.django_login),
    path("django-logout/", views.django_logout),
    path("django-password/", views.django_password_change),
    path("drf-migration/", views.DrfMigrationView.as_view()),
    path("orders/", views.OrdersView.as_view()),
    path("cli-only/", views.CliOnlyView.as_view()),
    path("no-kiosk/", views.NoKioskView.as_view()),
    path("session-auth/orders/", views.DefaultAuthenticationOrdersView.as_view()),
    path("session-auth/no-kiosk/", views.DefaultAuthenticationNoKioskView.as_view()),
    path("plain-orders/", views.plain_orders),
    path("plain-orders-async/", views.plain_orders_async),
]
