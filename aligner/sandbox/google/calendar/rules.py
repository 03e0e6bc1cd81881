"""What Google Calendar accepts in an event body, and how it stores one (no HTTP here).

Each check returns a Google error Response or None. The Event resource's field descriptions,
https://developers.google.com/calendar/api/v3/reference/events, are the source unless noted:
- client-chosen ids are base32hex (a–v, 0–9), 5..1024 characters (`id`);
- `start`/`end` need `dateTime` with an offset or a `timeZone` (or an all-day `date`)
  (`start.dateTime`, `start.timeZone`); an end before the start is `timeRangeEmpty` (the reason
  is in https://developers.google.com/calendar/api/guides/errors; that insert answers it for an
  inverted event is reported, not documented); a bad `timeZone` is refused (the reason
  `timeZoneInvalid` is the sandbox's guess, not documented);
- `eventType` cannot change after creation (`eventType`); focus time must be timed and opaque,
  on a primary calendar of an account that has focus time (the caller decides eligibility):
  https://developers.google.com/calendar/api/guides/calendar-status ("without attendees" is
  the Calendar UI's rule, not in the API docs);
- stored events leave default values out (`visibility: default`, `transparency: opaque`), and
  `dateTime` comes back in the event's own time zone: observed behaviour, not documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aligner.sandbox.google.common import google_error
from aligner.sandbox.http import Response

# Event resource, `id`: "characters allowed in the ID are those used in base32hex encoding, i.e.
# lowercase letters a-v and digits 0-9 ... the length of the ID must be between 5 and 1024"
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
EVENT_TYPES = {"default", "focusTime"}  # the types the sandbox emulates
# Enum values of `focusTimeProperties.autoDeclineMode` / `.chatStatus`, `visibility`,
# `transparency` and `status` in the Event resource.
AUTO_DECLINE = {
    "declineNone",
    "declineAllConflictingInvitations",
    "declineOnlyNewConflictingInvitations",
}
CHAT_STATUS = {"available", "doNotDisturb"}
VISIBILITY = {"default", "public", "private", "confidential"}
TRANSPARENCY = {"opaque", "transparent"}
STATUS = {"confirmed", "tentative", "cancelled"}
# events/list `maxResults`: "By default the value is 250 events. The page size can never be
# larger than 2500 events." https://developers.google.com/calendar/api/v3/reference/events/list
MAX_RESULTS = 2500
# Fields the Event resource does not mark "writable" (ignored in a request body).
READ_ONLY = {"kind", "etag", "created", "updated", "creator", "organizer", "htmlLink", "iCalUID"}
FOCUS_REFUSED = "Focus time events cannot be created on this calendar."


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_rfc3339(text: str) -> datetime | None:
    """An instant with a mandatory offset (or Z); None when it is not one ("Must be an RFC3339
    timestamp with mandatory time zone offset": timeMin/timeMax on events/list)."""
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def bad(message: str, reason: str = "invalid", domain: str = "global") -> Response:
    return google_error(400, message, reason, domain)


def check_id(event_id: Any) -> Response | None:
    """The Event resource's `id` rules (see EVENT_ID); the 400 "Invalid resource id value." is
    what Google answers (reported, not documented)."""
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        return bad("Invalid resource id value.")
    return None


def check_event(event: dict[str, Any]) -> Response | None:
    """The rules every stored event satisfies, whatever the account (module docstring).

    `focusTimeProperties` only on focus time: the Event resource ("Used if eventType is
    focusTime"); refusing it elsewhere is the sandbox's reading.
    """
    for side in ("start", "end"):
        problem = _check_time(event.get(side), side)
        if problem:
            return problem
    start, end = instant(event["start"]), instant(event["end"])
    if start is not None and end is not None and end < start:
        return bad("The specified time range is empty.", "timeRangeEmpty", "calendar")
    for field, allowed in (
        ("visibility", VISIBILITY),
        ("transparency", TRANSPARENCY),
        ("status", STATUS),
    ):
        if field in event and event[field] not in allowed:
            return bad(f"Invalid value for {field}: {event[field]}")
    kind = event.get("eventType", "default")
    if kind not in EVENT_TYPES:
        return bad(f"The sandbox does not emulate {kind!r} events.")
    if kind != "focusTime" and event.get("focusTimeProperties"):
        return bad("focusTimeProperties can only be set on focusTime events.")
    return _check_focus(event) if kind == "focusTime" else None


def _check_time(value: Any, side: str) -> Response | None:
    """EventDateTime: `date` or `dateTime`; a `dateTime` without an offset needs `timeZone`
    ("A time zone offset is required unless a time zone is explicitly specified in timeZone":
    Event resource, `start.dateTime`)."""
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        return bad(f"Missing {side} time.", "required")
    zone = value.get("timeZone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return bad(f"Invalid time zone definition for {side} time.", "timeZoneInvalid")
    if value.get("dateTime"):
        text = str(value["dateTime"])
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            return bad(f"Invalid {side} time.")
        if parsed.tzinfo is None and not zone:
            return bad(f"Missing time zone definition for {side} time.", "required")
    return None


def _check_focus(event: dict[str, Any]) -> Response | None:
    """https://developers.google.com/calendar/api/guides/calendar-status ("Create focus time"):
    timed ("can't be an all-day event"), `transparency` opaque, valid focusTimeProperties.
    "No attendees" is the sandbox's (the Calendar UI's) rule, not in the API docs."""
    if not event["start"].get("dateTime") or not event["end"].get("dateTime"):
        return bad("Focus time events must have a start and end time, not a date.")
    if event.get("attendees"):
        return bad("Focus time events cannot have attendees.")
    if event.get("transparency", "opaque") != "opaque":
        return bad("Focus time events must be opaque.")
    props = event.get("focusTimeProperties") or {}
    if props.get("autoDeclineMode", "declineNone") not in AUTO_DECLINE:
        return bad(f"Invalid autoDeclineMode: {props.get('autoDeclineMode')}")
    if props.get("chatStatus", "available") not in CHAT_STATUS:
        return bad(f"Invalid chatStatus: {props.get('chatStatus')}")
    return None


def instant(value: dict[str, Any]) -> datetime | None:
    """The UTC instant of an EventDateTime (all-day dates count from midnight UTC)."""
    if value.get("dateTime"):
        parsed = datetime.fromisoformat(str(value["dateTime"]).replace("z", "Z"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(value["timeZone"]))
        return parsed.astimezone(UTC)
    if value.get("date"):
        return datetime.fromisoformat(str(value["date"])).replace(tzinfo=UTC)
    return None


def stored_time(value: dict[str, Any]) -> dict[str, Any]:
    """EventDateTime as Google returns it: dateTime in the event's own zone, with its offset."""
    if not value.get("dateTime"):
        return {k: v for k, v in value.items() if k in ("date", "timeZone")}
    moment = instant(value)
    assert moment is not None
    zone = value.get("timeZone")
    local = moment.astimezone(ZoneInfo(zone)) if zone else moment
    stored: dict[str, Any] = {
        "dateTime": local.isoformat(timespec="seconds").replace("+00:00", "Z")
    }
    if zone:
        stored["timeZone"] = zone
    return stored


def without_defaults(event: dict[str, Any]) -> dict[str, Any]:
    """Google leaves default values out of what it returns (observed, not documented)."""
    stored = dict(event)
    for field, default in (("visibility", "default"), ("transparency", "opaque")):
        if stored.get(field) == default:
            del stored[field]
    for field in ("description", "focusTimeProperties", "extendedProperties", "attendees"):
        if field in stored and not stored[field]:
            del stored[field]
    stored["start"], stored["end"] = stored_time(stored["start"]), stored_time(stored["end"])
    return stored


def as_stored(
    event: dict[str, Any],
    previous: dict[str, Any] | None,
    now: datetime,
    write: int,
    owner: str,
    organizer: str,
) -> dict[str, Any]:
    """The resource Google keeps after a write: a fresh etag and `updated` every time.

    The fields (kind, etag, created, updated, htmlLink, creator, organizer, iCalUID, reminders,
    sequence) are the Event resource's:
    https://developers.google.com/calendar/api/v3/reference/events. Their exact values
    (etag format, iCalUID "<id>@google.com", sequence bumped only when the time moves) are
    the sandbox's approximations.
    """
    stamp = rfc3339(now)
    stored = without_defaults(event)
    stored.update(
        kind="calendar#event",
        etag=f'"{int(now.timestamp() * 1000)}{write:06d}"',
        updated=stamp,
        created=previous["created"] if previous else stamp,
        htmlLink=f"https://www.google.com/calendar/event?eid={stored['id']}",
        creator={"email": owner, "self": True},
        organizer={"email": organizer, "self": True},
        iCalUID=f"{stored['id']}@google.com",
    )
    stored.setdefault("reminders", {"useDefault": True})
    moved = previous is not None and (
        previous["start"] != stored["start"] or previous["end"] != stored["end"]
    )
    stored["sequence"] = (previous or {}).get("sequence", 0) + (1 if moved else 0)
    return stored


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge field by field; arrays are replaced.

    https://developers.google.com/calendar/api/guides/performance#patch. Differs from it on
    purpose: `start`/`end` are replaced whole rather than merged, so a timed event can become
    all-day (a merge would keep a stale `dateTime` beside the new `date`).
    """
    return _merged(base, patch, top=True)


def _merged(base: dict[str, Any], patch: dict[str, Any], *, top: bool) -> dict[str, Any]:
    """Read-only fields are the resource's own (a private property may be called "kind")."""
    result = dict(base)
    for key, value in patch.items():
        if top and key in READ_ONLY:
            continue
        if (
            isinstance(value, dict)
            and isinstance(result.get(key), dict)
            and key
            not in (
                "start",
                "end",
            )
        ):
            result[key] = _merged(result[key], value, top=False)
        else:
            result[key] = value
    return result


@dataclass(frozen=True)
class ListQuery:
    """events.list parameters: what to select and which page.

    https://developers.google.com/calendar/api/v3/reference/events/list: `showDeleted`
    ("Whether to include deleted events (with status equals "cancelled")"), `eventTypes`,
    `privateExtendedProperty`/`sharedExtendedProperty` ("propertyName=value"; repeated, an
    event must match all), `timeMin`/`timeMax` (see in_range).
    """

    private: tuple[str, ...]
    shared: tuple[str, ...]
    time_min: datetime | None
    time_max: datetime | None
    show_deleted: bool
    types: frozenset[str]
    limit: int
    offset: int

    def selects(self, event: dict[str, Any]) -> bool:
        return (
            (self.show_deleted or event["status"] != "cancelled")
            and (not self.types or event.get("eventType", "default") in self.types)
            and matches_properties(event, "private", self.private)
            and matches_properties(event, "shared", self.shared)
            and in_range(event, self.time_min, self.time_max)
        )


def list_query(query: dict[str, list[str]]) -> ListQuery | Response:
    """Parse events.list's query string, or the error Google answers for it.

    `timeMin`/`timeMax` must carry an offset (events/list); an empty range is 400
    `timeRangeEmpty` (the example of https://developers.google.com/calendar/api/guides/errors).
    The other messages are the sandbox's.
    """

    def arg(name: str, default: str = "") -> str:
        return (query.get(name) or [default])[0]

    times: dict[str, datetime | None] = {}
    for name in ("timeMin", "timeMax"):
        times[name] = parse_rfc3339(arg(name)) if arg(name) else None
        if arg(name) and times[name] is None:
            return bad(f"Bad Request: {name} must be RFC3339 with an offset", "badRequest")
    low, high = times["timeMin"], times["timeMax"]
    if low is not None and high is not None and low >= high:
        return bad("The specified time range is empty.", "timeRangeEmpty", "calendar")
    try:
        limit = min(int(arg("maxResults", "250")), MAX_RESULTS)
        offset = int(arg("pageToken", "0"))
    except ValueError:
        return bad("Invalid value for maxResults or pageToken.")
    private = tuple(query.get("privateExtendedProperty", []))
    shared = tuple(query.get("sharedExtendedProperty", []))
    if any("=" not in c for c in private + shared):
        return bad("Extended property constraints must be name=value.")
    return ListQuery(
        private,
        shared,
        low,
        high,
        arg("showDeleted", "false").lower() == "true",
        frozenset(query.get("eventTypes", [])),
        limit,
        offset,
    )


def matches_properties(event: dict[str, Any], scope: str, constraints: tuple[str, ...]) -> bool:
    """`privateExtendedProperty` / `sharedExtendedProperty`: "Extended properties constraint
    specified as propertyName=value. Matches only private [shared] properties. This parameter
    might be repeated multiple times to return events that match all given constraints."
    (https://developers.google.com/calendar/api/v3/reference/events/list)"""
    props = (event.get("extendedProperties") or {}).get(scope) or {}
    for constraint in constraints:
        name, _, value = constraint.partition("=")
        if props.get(name) != value:
            return False
    return True


def in_range(event: dict[str, Any], time_min: datetime | None, time_max: datetime | None) -> bool:
    """timeMin bounds the event's end, timeMax its start, both exclusive.

    events/list: timeMin is the "Lower bound (exclusive) for an event's end time to filter by",
    timeMax the "Upper bound (exclusive) for an event's start time to filter by".
    https://developers.google.com/calendar/api/v3/reference/events/list
    """
    start, end = instant(event.get("start") or {}), instant(event.get("end") or {})
    if time_min is not None and end is not None and not end > time_min:
        return False
    return not (time_max is not None and start is not None and not start < time_max)
