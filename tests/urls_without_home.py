"""A project as ``startproject`` makes it, plus auth_token's pages: nothing serves ``/``."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("auth_token.urls")),
]
