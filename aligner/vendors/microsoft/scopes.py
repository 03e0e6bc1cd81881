"""The delegated Microsoft Graph permissions aligner asks for, each only when a surface needs it.

https://learn.microsoft.com/en-us/graph/permissions-reference
- Presence.ReadWrite: read and set the person's presence and status message
  (https://learn.microsoft.com/en-us/graph/api/presence-setstatusmessage)
- Calendars.ReadWrite: create, update and delete events (https://learn.microsoft.com/en-us/graph/api/user-post-events)
- Mail.ReadWrite: create and read drafts (https://learn.microsoft.com/en-us/graph/api/user-post-messages)
- Mail.Send: send a draft (https://learn.microsoft.com/en-us/graph/api/message-send)
- offline_access: a refresh token, so cron and the daemon run without a person

MSAL adds the reserved scopes (openid, profile, offline_access) itself and refuses them in a
request (https://learn.microsoft.com/en-us/entra/msal/python/), so `requestable` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable

PRESENCE = "Presence.ReadWrite"
CALENDARS = "Calendars.ReadWrite"
MAIL_READ_WRITE = "Mail.ReadWrite"
MAIL_SEND = "Mail.Send"
OFFLINE_ACCESS = "offline_access"
RESERVED = frozenset({"openid", "profile", "offline_access"})


def requestable(scopes: Iterable[str]) -> list[str]:
    """The scopes to pass to MSAL: reserved ones removed, each once, order kept."""
    return [s for s in dict.fromkeys(scopes) if s.lower() not in RESERVED]


def granted(scope_text: str | Iterable[str]) -> set[str]:
    """Scopes as a token grant lists them (space separated), case-folded for comparison."""
    items = scope_text.split() if isinstance(scope_text, str) else scope_text
    return {s.lower().rsplit("/", 1)[-1] for s in items}


def missing(needed: Iterable[str], have: Iterable[str]) -> list[str]:
    held = granted(list(have))
    return [s for s in needed if s.lower() not in held and s.lower() not in RESERVED]
