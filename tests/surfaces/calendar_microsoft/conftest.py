"""Outlook calendar blocks: a theme with `[calendar] provider = "microsoft"` and sandbox helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.microsoft.calendar import OutlookCalendarService
from aligner.sandbox.server import LoggedRequest, Sandbox
from aligner.surfaces.calendar.outlook_events import KEY_ID, MARK_ID
from tests.conftest import write_theme
from tests.surfaces.calendar.marks import key_of_token
from tests.surfaces.calendar.test_calendar_surface import BLOCKS, NO_SLACK

OUTLOOK = """
[calendar]
enabled = true
provider = "microsoft"
visibility = "private"
"""


def outlook_theme(path: Path, *sections: str, blocks: dict[str, str] = BLOCKS) -> Path:
    return write_theme(path, NO_SLACK, OUTLOOK, *sections, *blocks.values())


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    return outlook_theme(tmp_path / "theme.toml")


def outlook(sandbox: Sandbox) -> OutlookCalendarService:
    return next(s for s in sandbox.services if isinstance(s, OutlookCalendarService))


def prop(event: dict[str, Any], prop_id: str) -> str | None:
    for found in event.get("singleValueExtendedProperties") or []:
        if found["id"] == prop_id:
            return str(found["value"])
    return None


def blocks(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """aligner's events on the Outlook calendar, by block id."""
    found = {}
    for event in outlook(sandbox).all_events():
        key = prop(event, KEY_ID)
        if key and prop(event, MARK_ID):
            found[key_of_token(key)] = event
    return found


def calls(sandbox: Sandbox, writes: bool | None = None) -> list[LoggedRequest]:
    """The requests the calendar made to Graph (other Graph resources left out)."""
    return [
        r
        for r in sandbox.requests("graph", writes=writes)
        if r.operation.startswith(("events.", "calendars."))
    ]


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    """(operation, event id or "") of every write, in order."""
    return [
        (r.operation.split(".", 1)[1], r.path.rsplit("/", 1)[1] if r.method != "POST" else "")
        for r in calls(sandbox, writes=True)
    ]


def sent(request: LoggedRequest) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.body or b"{}")
    return body


def utc(value: dict[str, Any]) -> str:
    assert value["timeZone"] == "UTC", value
    return str(value["dateTime"])[:19] + "Z"
