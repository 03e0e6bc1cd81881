"""What `aligner doctor` checks of the calendar: it is readable, and whether it has focus time."""

from __future__ import annotations

from collections.abc import Iterator

from aligner.core.doctor import Check, ok
from aligner.state.settings import Settings
from aligner.surfaces.calendar.events import FOCUS, NAME, calendar_section
from aligner.theme.schema import ThemeConfig
from aligner.vendors.google.account import read_check
from aligner.vendors.google.scopes import CALENDAR_EVENTS

CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")


def calendar_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    if calendar_section(config).provider == "microsoft":
        yield from outlook_checks(settings)
        return
    calendar_id = calendar_section(config).calendar_id
    problem, body = read_check(
        f"{NAME}.works",
        settings,
        ("calendar", "v3"),
        CALENDAR_EVENTS,
        lambda service: service.events().list(calendarId=calendar_id, maxResults=1),
    )
    if problem is not None:
        yield problem
        return
    yield ok(f"{NAME}.works", f"calendar {calendar_id} is readable")
    yield focus_time_check(config, str(body.get("summary") or ""))


def focus_time_check(config: ThemeConfig, summary: str) -> Check:
    """Focus time exists only on primary calendars of (eligible) Workspace accounts."""
    name, section = f"{NAME}.focus_time", calendar_section(config)
    if section.event_type != FOCUS:
        return ok(name, "not used (event_type = default)")
    fallback = 'or set [calendar] event_type = "default" for plain busy blocks'
    if section.calendar_id != "primary":
        return Check(name, "warn", "focus time exists only on the primary calendar", fallback)
    domain = summary.rpartition("@")[2].lower() if "@" in summary else ""
    if domain in CONSUMER_DOMAINS:
        return Check(
            name,
            "warn",
            f"{summary} is a personal Google account: it has no focus time",
            "use a Workspace account " + fallback,
        )
    if domain:
        return Check(
            name,
            "unknown",
            f"{domain} looks like a Workspace account: focus time works if your admin allows it",
        )
    return Check(name, "unknown", "could not tell which kind of account this calendar is")


def outlook_checks(settings: Settings) -> Iterator[Check]:
    """One cheap read of the default Outlook calendar (`GET /me/calendar?$select=...`,
    https://learn.microsoft.com/en-us/graph/api/calendar-get); Outlook has no focus time."""
    from aligner.errors import SurfaceError
    from aligner.vendors.microsoft.scopes import CALENDARS
    from aligner.vendors.microsoft.settings import MicrosoftSettings
    from aligner.vendors.microsoft.token import graph_for

    name = f"{NAME}.works"
    try:
        graph = graph_for(settings.part(MicrosoftSettings), (CALENDARS,), NAME)
        try:
            found = graph.get("me/calendar", {"$select": "id,name,owner,canEdit"}).json()
        finally:
            graph.close()
    except SurfaceError as exc:
        yield Check(name, "fail", str(exc), "run `aligner auth microsoft`")
        return
    owner = (found.get("owner") or {}).get("address") or "?"
    if found.get("canEdit") is False:
        yield Check(name, "fail", f"Outlook calendar of {owner} is read-only to aligner")
        return
    yield ok(name, f"Outlook calendar “{found.get('name') or 'Calendar'}” of {owner} is readable")
    yield ok(f"{NAME}.focus_time", "not on Outlook: blocks are busy events (show as busy)")
