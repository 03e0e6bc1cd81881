"""The OAuth scopes of Google's APIs that aligner's surfaces use (each surface names its own).

https://developers.google.com/identity/protocols/oauth2/scopes
"""

from __future__ import annotations

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
CALENDAR_EVENTS = SCOPE_PREFIX + "calendar.events"
GMAIL_SETTINGS_BASIC = SCOPE_PREFIX + "gmail.settings.basic"
GMAIL_COMPOSE = SCOPE_PREFIX + "gmail.compose"


def short(scope: str) -> str:
    """`calendar.events` for `https://www.googleapis.com/auth/calendar.events`."""
    return scope.removeprefix(SCOPE_PREFIX)
