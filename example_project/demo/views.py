"""The demo's pages: a home page showing the request's token."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from example_project.demo.management.commands.demo_users import USERS

# username, password, role: shown to anonymous visitors.
DEMO_USERS = [
    (username, password, "superuser" if is_superuser else "staff" if is_staff else "user")
    for username, password, is_staff, is_superuser in USERS
]


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    token = request.token
    context = {"demo_users": DEMO_USERS}
    if token.is_authenticated:
        context["time_to_expiration"] = _format_duration(token.time_to_expiration)
    return render(request, "demo/home.html", context)


def _format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{hours:d}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {text}" if days else text
