"""The token API: ``path("api/", include("auth_token.contrib.rest_framework.urls"))``."""

from django.urls import path

from auth_token.contrib.rest_framework import views

app_name = "auth_token_api"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout-all/", views.LogoutAllView.as_view(), name="logout_all"),
    path("renew/", views.RenewView.as_view(), name="renew"),
    path("me/", views.MeView.as_view(), name="me"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="session"),
    path("tokens/", views.PersonalTokenListView.as_view(), name="personal_tokens"),
    path("tokens/<str:token_id>/", views.PersonalTokenDetailView.as_view(), name="personal_token"),
    path("devices/", views.DeviceListView.as_view(), name="devices"),
    # Before devices/<id>/, which would take "login" for an id.
    path("devices/login/", views.DeviceLoginView.as_view(), name="device_login"),
    path("devices/<str:device_id>/", views.DeviceDetailView.as_view(), name="device"),
]
