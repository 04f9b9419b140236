from django.urls import path

from auth_token import views

app_name = "auth_token"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("sessions/", views.SessionListView.as_view(), name="sessions"),
    path("sessions/revoke-others/", views.RevokeOthersView.as_view(), name="revoke_others"),
    path("sessions/<uuid:public_id>/revoke/", views.RevokeView.as_view(), name="revoke"),
    path("tokens/new/", views.CreatePersonalTokenView.as_view(), name="create_personal_token"),
    path("devices/<int:device_id>/remove/", views.RemoveDeviceView.as_view(), name="remove_device"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("takeover/release/", views.ReleaseTakeoverView.as_view(), name="release"),
]
