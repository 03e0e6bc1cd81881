"""The fake Outlook calendar answers as Graph does (the shapes aligner's client relies on)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.surfaces.calendar.outlook_api import EXPAND, mark_filter
from aligner.surfaces.calendar.outlook_events import KEY_ID, MARK_ID, MARK_VALUE

EVENT = {
    "subject": "Deep work",
    "body": {"contentType": "text", "content": "Heads down"},
    "start": {"dateTime": "2026-12-02T18:00:00", "timeZone": "UTC"},
    "end": {"dateTime": "2026-12-02T19:00:00", "timeZone": "UTC"},
    "showAs": "busy",
    "sensitivity": "private",
    "transactionId": "6f1c2a9e-0000-4000-8000-000000000001",
    "singleValueExtendedProperties": [
        {"id": MARK_ID, "value": MARK_VALUE},
        {"id": KEY_ID, "value": "inference/deep-work"},
    ],
}


@pytest.fixture
def graph(sandbox: Sandbox) -> Any:
    with httpx.Client(
        base_url=f"{sandbox.url}graph/v1.0/", headers={"Authorization": f"Bearer {GRAPH_TOKEN}"}
    ) as client:
        yield client


def test_a_second_post_with_the_same_transaction_id_returns_the_first_event(graph: Any) -> None:
    first = graph.post("me/calendar/events", json=EVENT)
    again = graph.post("me/events", json={**EVENT, "subject": "Deep work (retry)"})
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["subject"] == "Deep work"
    assert first.json()["transactionId"] == EVENT["transactionId"]
    for field in ("@odata.etag", "changeKey", "iCalUId", "organizer"):
        assert first.json()[field]
    assert first.json()["start"] == {"dateTime": "2026-12-02T18:00:00.0000000", "timeZone": "UTC"}


def test_one_filtered_list_finds_marked_events_and_expands_only_the_asked_property(
    graph: Any,
) -> None:
    made = graph.post("me/events", json=EVENT).json()
    listed = graph.get(
        "me/events", params={"$filter": mark_filter(MARK_ID, MARK_VALUE), "$expand": EXPAND}
    ).json()
    assert [e["id"] for e in listed["value"]] == [made["id"]]  # not the person's standup
    assert listed["value"][0]["singleValueExtendedProperties"] == [
        {"id": KEY_ID, "value": "inference/deep-work"}
    ]
    plain = graph.get("me/events").json()["value"]
    assert len(plain) == 2 and all("singleValueExtendedProperties" not in e for e in plain)


def test_if_match_guards_updates_and_deletes(graph: Any) -> None:
    made = graph.post("me/events", json=EVENT).json()
    path = f"me/events/{made['id']}"
    updated = graph.patch(
        path, json={"subject": "Moved"}, headers={"If-Match": made["@odata.etag"]}
    )
    assert updated.status_code == 200 and updated.json()["@odata.etag"] != made["@odata.etag"]
    stale = graph.delete(path, headers={"If-Match": made["@odata.etag"]})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "ErrorIrresolvableConflict"
    assert (
        graph.delete(path, headers={"If-Match": updated.json()["@odata.etag"]}).status_code == 204
    )
    gone = graph.get(path)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"


def test_tokens_are_checked(sandbox: Sandbox, graph: Any) -> None:
    bare = httpx.get(f"{sandbox.url}graph/v1.0/me/events")
    assert bare.status_code == 401 and "WWW-Authenticate" in bare.headers
    assert bare.json()["error"]["code"] == "InvalidAuthenticationToken"
    directory = next(s for s in sandbox.services if hasattr(s, "directory")).directory
    directory.grant("eyJ.read-only", "Calendars.Read")
    headers = {"Authorization": "Bearer eyJ.read-only"}
    assert httpx.get(f"{sandbox.url}graph/v1.0/me/events", headers=headers).status_code == 200
    refused = httpx.post(f"{sandbox.url}graph/v1.0/me/events", json=EVENT, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ErrorAccessDenied"


def test_a_windows_time_zone_id_is_read_as_that_zone(graph: Any) -> None:
    """Graph's own examples write "Pacific Standard Time"; answers come back in UTC."""
    body = {
        **EVENT,
        "transactionId": "6f1c2a9e-0000-4000-8000-000000000002",
        "start": {"dateTime": "2026-12-02T10:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2026-12-02T11:00:00", "timeZone": "Pacific Standard Time"},
    }
    made = graph.post("me/calendar/events", json=body).json()
    assert made["start"] == {"dateTime": "2026-12-02T18:00:00.0000000", "timeZone": "UTC"}
