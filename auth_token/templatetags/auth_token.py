"""Template helpers of the library's pages: ``{% load auth_token %}``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def relative_time(value: datetime | None, now: datetime | None = None) -> SafeString | str:
    """``<time>`` saying "5 minutes ago" or "in 52 minutes", with the exact time on hover."""
    if value is None:
        return ""
    now = timezone.now() if now is None else now
    if abs(value - now) < timedelta(minutes=1):
        text = gettext("just now")
    elif value < now:
        text = gettext("%(time)s ago") % {"time": timesince(value, now, depth=1)}
    else:
        # Rounded up by half a minute: a 7-day token made a few seconds ago expires "in 1 week", not
        # "in 6 days" (timeuntil truncates).
        text = gettext("in %(time)s") % {"time": timeuntil(value + timedelta(seconds=30), now, depth=1)}
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        formats.date_format(local, "DATETIME_FORMAT"),
        text,
    )
