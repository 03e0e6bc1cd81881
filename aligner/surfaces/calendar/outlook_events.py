"""Calendar blocks as Outlook events (Microsoft Graph): the wire body and the view read back.

A block's view is the same value the Google calendar uses (see events.py), so the same
`BlockPlanner` plans both; on Outlook its fields mean:

- "type" is always "default": Outlook has no focus time, a block is a busy event;
- "visibility" is the event's `sensitivity` ("private" for a private block, else "normal");
- "transparency" is the event's `showAs` ("busy");
- "description" is the body, sent and read as text (`Prefer: outlook.body-content-type="text"`,
  https://learn.microsoft.com/en-us/graph/api/event-get#request-headers).

Ownership is marked with two single-value extended properties in a property set of aligner's
own (https://learn.microsoft.com/en-us/graph/api/resources/extended-properties-overview): MARK,
whose constant value lets one filtered list find every block
(https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get), and KEY,
the block's opaque token (`block_token` of the theme id and the block id, as on Google), read
back with `$expand` and matched against the token of each block key. Their names and values are
neutral: what Outlook keeps on a person's calendar names neither aligner, the theme, a block nor
the company.

Times go out in UTC (`timeZone: "UTC"`): Graph's create and update "might not support all
dateTimeTimeZone time zones" (https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone),
UTC is always supported, and Outlook shows the block in the person's own zone anyway.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from aligner.core.model import Json
from aligner.surfaces.calendar.events import (
    BUSY,
    MARK_VERSION,
    PRIVATE,
    as_busy,
    block_token,
    utc_text,
)
from aligner.theme.schema import ThemeConfig

TITLE = "Outlook calendar blocks"  # the surface's title when the provider is Microsoft
PROPERTY_SET = "{6b0f8e38-5a3c-4f57-9d1e-2c9a4e7b1d05}"  # aligner's own, fixed forever
MARK_ID = f"String {PROPERTY_SET} Name Kind"
MARK_VALUE = "time-block"
KEY_ID = f"String {PROPERTY_SET} Name Key"
SHOW_AS = "busy"
PRIVATE_SENSITIVITY, NORMAL = "private", "normal"
LABELS = {"visibility": "sensitivity", "transparency": "show as"}  # how plans name the fields


def outlook_view(view: Json) -> dict[str, Json]:
    """What a block asks of Outlook: a busy event, private when the block is private."""
    busy = as_busy(view)
    private = view.get("visibility") in PRIVATE
    return {
        **busy,
        "visibility": PRIVATE_SENSITIVITY if private else NORMAL,
        "transparency": SHOW_AS,
    }


def key_value(theme_key: str, block_key: str) -> str:
    """KEY's value: the block's opaque token (no theme id, block id or company in it)."""
    return block_token(theme_key, block_key)


def transaction_id(theme_key: str, block_key: str, generation: int) -> str:
    """A deterministic id per block and creation: the same create, retried, sends the same one."""
    digest = hashlib.sha256(f"{theme_key}\0{block_key}\0{generation}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def outlook_body(
    view: Json, config: ThemeConfig, block_key: str, transaction: str | None = None
) -> dict[str, Any]:
    """The event resource for a view (https://learn.microsoft.com/en-us/graph/api/resources/event);
    `transaction` only on create (Graph does not let an update change it)."""
    body: dict[str, Any] = {
        "subject": view["title"],
        "body": {"contentType": "text", "content": view["description"]},
        "start": {"dateTime": _utc_local(view["start"]), "timeZone": "UTC"},
        "end": {"dateTime": _utc_local(view["end"]), "timeZone": "UTC"},
        "showAs": view["transparency"],
        "sensitivity": view["visibility"],
        "isReminderOn": False,
        "singleValueExtendedProperties": [
            {"id": MARK_ID, "value": MARK_VALUE},
            {"id": KEY_ID, "value": key_value(config.theme.key, block_key)},
        ],
    }
    if transaction:
        body["transactionId"] = transaction
    return body


def patch_body(view: Json) -> dict[str, Any]:
    """The fields an update sends: only what a block decides (the marks stay as they are)."""
    return {
        "subject": view["title"],
        "body": {"contentType": "text", "content": view["description"]},
        "start": {"dateTime": _utc_local(view["start"]), "timeZone": "UTC"},
        "end": {"dateTime": _utc_local(view["end"]), "timeZone": "UTC"},
        "showAs": view["transparency"],
        "sensitivity": view["visibility"],
    }


def outlook_view_of(event: dict[str, Any]) -> dict[str, Json]:
    """A Graph event as a block view (times as UTC instants, KEY as the opaque "block" token that
    `_event_for` matches; Outlook blocks carry no separate theme token)."""
    key = ""
    for prop in event.get("singleValueExtendedProperties") or []:
        if isinstance(prop, dict) and prop.get("id") == KEY_ID:
            key = str(prop.get("value") or "")
    body = event.get("body") or {}
    return {
        "id": event.get("id"),
        "status": "cancelled" if event.get("isCancelled") else "confirmed",
        "etag": event.get("@odata.etag"),
        "updated": event.get("lastModifiedDateTime"),
        "theme": None,
        "block": key or None,
        "mark": MARK_VERSION if key else None,
        "type": BUSY,
        "title": event.get("subject") or "",
        "description": str(body.get("content") or "").strip(),
        "start": _instant(event.get("start")),
        "end": _instant(event.get("end")),
        "visibility": event.get("sensitivity") or NORMAL,
        "transparency": event.get("showAs") or SHOW_AS,
        "focus": None,
        "transaction": event.get("transactionId"),
    }


def organizer_of(event: dict[str, Any]) -> str | None:
    """The address of the event's organizer: for a block aligner made, the calendar's owner."""
    address = ((event.get("organizer") or {}).get("emailAddress") or {}).get("address")
    return str(address).lower() if address else None


def _utc_local(instant: str) -> str:
    return utc_text(datetime.fromisoformat(instant.replace("Z", "+00:00"))).rstrip("Z")


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def _instant(value: Any) -> str | None:
    """A dateTimeTimeZone ("2026-12-02T18:00:00.0000000", "UTC") as a UTC instant."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    text = _FRACTION.sub(r"\1", str(value["dateTime"]).replace("Z", "+00:00"))
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(str(value.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")  # a Windows zone name: Graph answers in UTC unless asked
        moment = moment.replace(tzinfo=zone)
    return utc_text(moment.astimezone(UTC))
