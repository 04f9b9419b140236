"""The admin alone: a project that did not include ``auth_token.urls``."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
