"""Calendar blocks as values: what the theme asks for, what an event says, and the wire body.

A block *view* is the JSON value plans compare, the store keeps and the journal records:

    {"type": "focusTime" | "default", "title", "description", "start", "end" (UTC, ...Z),
     "visibility", "transparency", "focus": {autoDeclineMode, declineMessage, chatStatus} | None}

A view read from Google also carries "id", "status", "etag", "updated", "theme", "block" and
"mark": the private extended properties that mark the event as one of aligner's blocks.

The marks are neutral (issue 12 §3, discretion): the mark is `tag=time-block`, and the theme
and the block are opaque keyed hashes (`theme_token`, `block_token`), so nothing aligner keeps
on a calendar names the tool or carries the theme id, a block id or the company they may name.
A block is recognised by computing the hash of the theme key and each candidate block key and
comparing (`_event_for` in surface.py).

Releases before this one marked blocks in clear text (`aligner=calendar-block`, `alignerTheme`,
`alignerBlock`: the LEGACY_* names). `view_of` still reads them, turning them into the same
opaque tokens, with "mark" set to LEGACY_MARK_VERSION instead of MARK_VERSION; see
`legacy_possible` for when the surface still lists them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aligner.core.model import Json
from aligner.surfaces.calendar.section import CalendarBlock, CalendarSection
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render
from aligner.theme.timespec import duration_length

NAME = "calendar"  # the surface, and its theme-file section
FOCUS, BUSY = "focusTime", "default"
MARK_NAME, MARK_VALUE = "tag", "time-block"
MARK = f"{MARK_NAME}={MARK_VALUE}"  # the events.list filter that finds every block aligner owns
THEME_PROP, BLOCK_PROP = "set", "key"  # values: theme_token, block_token (opaque)
MARK_VERSION = 2  # a view's "mark" when the event carries the neutral marks
# How releases before the neutral marks marked a block (read, never written again).
LEGACY_MARK_NAME, LEGACY_MARK_VALUE = "aligner", "calendar-block"
LEGACY_MARK = f"{LEGACY_MARK_NAME}={LEGACY_MARK_VALUE}"
LEGACY_THEME_PROP, LEGACY_BLOCK_PROP = "alignerTheme", "alignerBlock"
LEGACY_MARK_VERSION = 1
_TOKEN_KEY = b"calendar block"
MANAGED = ("type", "title", "description", "start", "end", "visibility", "transparency", "focus")
PRIVATE = {"private", "confidential"}  # "confidential" is Google's legacy name for private


def event_id(theme_key: str, block_key: str, kind: str, generation: int = 0) -> str:
    """A deterministic base32hex id (a–v, 0–9): the same block always gets the same event."""
    digest = hashlib.sha256(f"aligner\0{theme_key}\0{block_key}\0{kind}".encode()).digest()
    text = base64.b32hexencode(digest[:20]).decode("ascii").lower().rstrip("=")
    return text + (f"g{generation}" if generation else "")


def _keyed(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), key=_TOKEN_KEY, digest_size=size).hexdigest()


def theme_token(theme_key: str) -> str:
    """The theme as the calendar sees it: eight hex digits, no word of the theme or company."""
    return _keyed(f"theme\0{theme_key}", 4)


def block_token(theme_key: str, block_key: str) -> str:
    """The block (of this theme) as the calendar sees it: twelve opaque hex digits."""
    return _keyed(f"block\0{theme_key}\0{block_key}", 6)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class FocusTimeRefused(Exception):
    """Google answered 400 to a focus-time event: this account or calendar cannot hold one."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# -- what the theme asks for ------------------------------------------------------------------


def calendar_section(config: ThemeConfig) -> CalendarSection:
    return config.section(NAME, CalendarSection)


def on_outlook(config: ThemeConfig) -> bool:
    """Whether the blocks go on Outlook (Microsoft Graph) rather than Google Calendar."""
    return calendar_section(config).provider == "microsoft"


def block_field(index: int) -> str:
    return f"calendar.blocks[{index}]"


def block_view(config: ThemeConfig, index: int, block: CalendarBlock) -> dict[str, Json]:
    """The view one block of the theme asks for (templates rendered; ConfigError on trouble)."""
    section, field = calendar_section(config), block_field(index)
    start = config.instant(block.start, f"{field}.start")
    end = start + duration_length(block.duration)
    focus = None
    if section.event_type == FOCUS:
        message = ""
        if section.auto_decline != "declineNone":
            message = render(config, "calendar.decline_message", section.decline_message).strip()
        focus = {
            "autoDeclineMode": section.auto_decline,
            "declineMessage": message,
            "chatStatus": section.chat_status,
        }
    return {
        "type": section.event_type,
        "title": render(config, f"{field}.title", block.title).strip(),
        "description": render(config, f"{field}.description", block.description).strip(),
        "start": utc_text(start),
        "end": utc_text(end),
        "visibility": block.visibility or section.visibility,
        "transparency": "opaque",
        "focus": focus,
    }


def as_busy(view: Json) -> dict[str, Json]:
    """The same block as a plain busy event (for accounts without focus time)."""
    return {**view, "type": BUSY, "focus": None}


def managed(view: Json) -> dict[str, Json] | None:
    """Only the fields aligner decides (what plans compare and show)."""
    if not view or view.get("status") == "cancelled":
        return None
    return {k: view.get(k) for k in MANAGED}


def same(a: Json, b: Json) -> bool:
    return managed(a) == managed(b)


def is_live(view: Json) -> bool:
    return bool(view) and view.get("status") != "cancelled"


# -- what Google says -------------------------------------------------------------------------


def view_of(event: dict[str, Any]) -> dict[str, Json]:
    """Normalise an API event: defaults filled in, times as UTC instants, the marks (neutral
    or legacy) as opaque theme and block tokens."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    theme, block, mark = _marks(private)
    kind = event.get("eventType") or BUSY
    props = event.get("focusTimeProperties") or {}
    return {
        "id": event.get("id"),
        "status": event.get("status") or "confirmed",
        "etag": event.get("etag"),
        "updated": event.get("updated"),
        "theme": theme,
        "block": block,
        "mark": mark,
        "type": kind,
        "title": event.get("summary") or "",
        "description": event.get("description") or "",
        "start": _instant_text(event.get("start")),
        "end": _instant_text(event.get("end")),
        "visibility": event.get("visibility") or "default",
        "transparency": event.get("transparency") or "opaque",
        "focus": {
            "autoDeclineMode": props.get("autoDeclineMode") or "declineNone",
            "declineMessage": props.get("declineMessage") or "",
            "chatStatus": props.get("chatStatus") or "available",
        }
        if kind == FOCUS
        else None,
    }


def _marks(private: Mapping[str, Any]) -> tuple[str | None, str | None, int | None]:
    """(theme token, block token, mark version) of an event's private properties."""
    if private.get(MARK_NAME) == MARK_VALUE and private.get(BLOCK_PROP):
        theme = private.get(THEME_PROP)
        return (str(theme) if theme else None), str(private[BLOCK_PROP]), MARK_VERSION
    theme, block = private.get(LEGACY_THEME_PROP), private.get(LEGACY_BLOCK_PROP)
    if private.get(LEGACY_MARK_NAME) == LEGACY_MARK_VALUE and theme and block:
        return theme_token(str(theme)), block_token(str(theme), str(block)), LEGACY_MARK_VERSION
    return None, None, None


def _instant_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    if value.get("dateTime"):
        parsed = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        if parsed.tzinfo is None and value.get("timeZone"):
            parsed = parsed.replace(tzinfo=ZoneInfo(value["timeZone"]))
        return utc_text(parsed)
    return str(value.get("date")) if value.get("date") else None


# -- what goes on the wire --------------------------------------------------------------------


def event_body(view: Json, config: ThemeConfig, block_key: str) -> dict[str, Any]:
    """The Event resource for a view: timed, opaque, no attendees, marked (neutrally, see the
    module's docstring) as one of aligner's blocks."""
    zone = config.theme.timezone
    body: dict[str, Any] = {
        "summary": view["title"],
        "description": view["description"],
        "start": {"dateTime": _local_text(view["start"], config), "timeZone": zone},
        "end": {"dateTime": _local_text(view["end"], config), "timeZone": zone},
        "visibility": view["visibility"],
        "transparency": view["transparency"],
        "eventType": view["type"],
        "extendedProperties": {
            "private": {
                MARK_NAME: MARK_VALUE,
                THEME_PROP: theme_token(config.theme.key),
                BLOCK_PROP: block_token(config.theme.key, block_key),
            }
        },
    }
    if view["type"] == FOCUS and view.get("focus"):
        focus = dict(view["focus"])
        if not focus.get("declineMessage"):
            focus.pop("declineMessage", None)
        body["focusTimeProperties"] = focus
    return body


def _local_text(instant: str, config: ThemeConfig) -> str:
    return moment(instant).astimezone(config.zone).isoformat(timespec="seconds")


# -- how people read it -----------------------------------------------------------------------


def kind_label(view: Json) -> str:
    return "focus time" if view and view.get("type") == FOCUS else "busy block"


def when(view: Json, zone: ZoneInfo, *, utc: bool = True) -> str:
    """'Wed 02 Dec 10:00–12:00 PST = 18:00–20:00 UTC' (the UTC date shown when it differs)."""
    if not view or not view.get("start") or not view.get("end"):
        return "(no time)"
    start, end = moment(view["start"]), moment(view["end"])
    local = _span(start.astimezone(zone), end.astimezone(zone), with_date=True)
    if not utc:
        return local
    same_day = start.astimezone(zone).date() == start.date()
    return f"{local} = {_span(start, end, with_date=not same_day)}"


def _span(a: datetime, b: datetime, *, with_date: bool) -> str:
    name = a.strftime("%Z")
    head = f"{a:%a %d %b %H:%M}" if with_date else f"{a:%H:%M}"
    if a.date() == b.date() and a.utcoffset() == b.utcoffset():
        return f"{head}–{b:%H:%M} {name}"
    return f"{a:%a %d %b %H:%M} {name} – {b:%a %d %b %H:%M %Z}"


def describe(view: Json, zone: ZoneInfo, *, utc: bool = True) -> str:
    if not is_live(view):
        return "(not on the calendar)"
    return f"{kind_label(view)} “{view['title']}” {when(view, zone, utc=utc)}"


def preview(
    before: Json, after: Json, zone: ZoneInfo, labels: Mapping[str, str] | None = None
) -> list[str]:
    """What an update changes, field by field, as a person reads it (`labels`: the provider's
    own names for fields, e.g. Outlook's "sensitivity" for "visibility")."""
    named = labels or {}
    old, new = managed(before) or {}, managed(after) or {}
    lines = []
    if (old.get("start"), old.get("end")) != (new.get("start"), new.get("end")):
        lines.append(f"time: {when(old, zone)} → {when(new, zone)}")
    if old.get("type") != new.get("type"):
        lines.append(f"type: {kind_label(old)} → {kind_label(new)}")
    for field in ("title", "description"):
        if old.get(field) != new.get(field):
            lines.append(f"{field}: “{_clip(old.get(field))}” → “{_clip(new.get(field))}”")
    for field in ("visibility", "transparency"):
        if old.get(field) != new.get(field):
            lines.append(f"{named.get(field, field)}: {old.get(field)} → {new.get(field)}")
    if old.get("type") == new.get("type") == FOCUS and old.get("focus") != new.get("focus"):
        lines.append(f"focus time: {_focus(old.get('focus'))} → {_focus(new.get('focus'))}")
    return lines


def _focus(props: Json) -> str:
    props = props or {}
    message = props.get("declineMessage")
    said = f" “{_clip(message)}”" if message else ""
    return f"{props.get('autoDeclineMode')}{said}, chat {props.get('chatStatus')}"


def _clip(value: Json, limit: int = 80) -> str:
    text = str(value or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
