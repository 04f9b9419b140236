from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from auth_token import views as auth_token_views
from example_project.demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("auth_token.urls")),
    path("api/", include("auth_token.contrib.rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The admin's own login and logout pages call django.contrib.auth's login() and logout(), which
    # the token middleware does not bridge yet (issue 4): a login there would not sign in and a
    # logout would leave the token valid. Use auth_token's views instead, before the admin's URLs.
    path("admin/login/", views.admin_login, name="admin_login"),
    path("admin/logout/", auth_token_views.LogoutView.as_view(), name="admin_logout"),
    path("admin/", admin.site.urls),
]
