from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from example_project.demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("auth_token.urls")),
    path("api/", include("auth_token.contrib.rest_framework.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The admin's own login and logout pages work as they are: the token middleware bridges
    # django.contrib.auth's login() and logout() (a login there issues a token cookie).
    path("admin/", admin.site.urls),
]
