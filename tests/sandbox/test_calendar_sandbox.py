"""The fake Calendar v3 behaves like the real one, seen through google-api-python-client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from aligner.sandbox.google.common import EMAIL, GOOGLE_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.surfaces.calendar.api import CalendarApi
from aligner.vendors.google.client import build_service
from aligner.vendors.google.settings import GoogleSettings

ZONE = "America/Los_Angeles"


def when(text: str) -> dict[str, str]:
    return {"dateTime": text, "timeZone": ZONE}


def block(event_id: str | None = "blockaaaa1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": "Data refresh",
        "start": when("2026-12-02T10:00:00"),
        "end": when("2026-12-02T12:00:00"),
        "eventType": "focusTime",
        "focusTimeProperties": {"autoDeclineMode": "declineNone", "chatStatus": "doNotDisturb"},
        "extendedProperties": {"private": {"aligner": "calendar-block", "alignerBlock": "a"}},
        **extra,
    }
    if event_id:
        body["id"] = event_id
    return body


@contextmanager
def client(sandbox: Sandbox, token: str = GOOGLE_TOKEN) -> Iterator[Any]:
    settings = GoogleSettings(google_api_root=sandbox.url, google_access_token=token)
    service = build_service(settings, "calendar", "v3", "calendar")
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def google(sandbox: Sandbox) -> Iterator[Any]:
    with client(sandbox) as service:
        yield service.events()


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[CalendarApi]:
    with client(sandbox) as service:
        yield CalendarApi(service)


def error(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    body = json.loads(caught.value.content)["error"]
    return body["code"], body["errors"][0]["reason"]


def test_insert_returns_the_stored_event_in_its_own_zone(google: Any) -> None:
    event = google.insert(calendarId="primary", body=block()).execute()
    assert event["id"] == "blockaaaa1" and event["status"] == "confirmed"
    assert event["start"] == {"dateTime": "2026-12-02T10:00:00-08:00", "timeZone": ZONE}
    assert event["eventType"] == "focusTime" and event["kind"] == "calendar#event"
    assert "transparency" not in event and "visibility" not in event  # defaults left out
    assert event["etag"].startswith('"')


@pytest.mark.parametrize("bad_id", ["ABCDEF", "abc", "abcdewxyz", "abc-def-0"])
def test_ids_must_be_base32hex_of_5_to_1024_characters(google: Any, bad_id: str) -> None:
    assert error(google.insert(calendarId="primary", body=block(bad_id))) == (400, "invalid")


def test_a_known_id_is_409_even_once_deleted(google: Any) -> None:
    google.insert(calendarId="primary", body=block()).execute()
    assert error(google.insert(calendarId="primary", body=block())) == (409, "duplicate")
    assert google.delete(calendarId="primary", eventId="blockaaaa1").execute() == ""
    assert error(google.insert(calendarId="primary", body=block())) == (409, "duplicate")
    assert error(google.delete(calendarId="primary", eventId="blockaaaa1")) == (410, "deleted")
    tombstone = google.get(calendarId="primary", eventId="blockaaaa1").execute()
    assert tombstone["status"] == "cancelled"
    assert error(google.get(calendarId="primary", eventId="nosuchevent")) == (404, "notFound")


def test_list_filters_on_private_properties_time_and_deleted(google: Any) -> None:
    google.insert(calendarId="primary", body=block("blockaaaa1")).execute()
    other = block("blockbbbb2", start=when("2026-12-02T14:00:00"), end=when("2026-12-02T15:00:00"))
    other["extendedProperties"] = {"private": {"aligner": "calendar-block", "alignerBlock": "b"}}
    google.insert(calendarId="primary", body=other).execute()
    google.delete(calendarId="primary", eventId="blockbbbb2").execute()

    def ids(**params: Any) -> list[str]:
        page = google.list(calendarId="primary", **params).execute()
        return [e["id"] for e in page["items"]]

    mark = "aligner=calendar-block"
    assert ids(privateExtendedProperty=[mark]) == ["blockaaaa1"]
    assert ids(privateExtendedProperty=[mark], showDeleted=True) == ["blockaaaa1", "blockbbbb2"]
    both = [mark, "alignerBlock=b"]
    assert ids(privateExtendedProperty=both, showDeleted=True) == ["blockbbbb2"]  # AND-ed
    assert len(ids()) == 2  # the seeded standup and the live block
    # timeMin bounds the end, timeMax the start, both exclusive
    assert ids(privateExtendedProperty=[mark], timeMin="2026-12-02T20:00:00Z") == []
    assert ids(privateExtendedProperty=[mark], timeMin="2026-12-02T19:59:00Z") == ["blockaaaa1"]
    assert ids(privateExtendedProperty=[mark], timeMax="2026-12-02T18:00:00Z") == []
    empty = google.list(
        calendarId="primary", timeMin="2026-12-02T20:00:00Z", timeMax="2026-12-02T10:00:00Z"
    )
    assert error(empty) == (400, "timeRangeEmpty")


def test_list_pages(google: Any) -> None:
    for n in range(3):
        google.insert(calendarId="primary", body=block(f"page0000{n}")).execute()
    first = google.list(calendarId="primary", maxResults=2).execute()
    assert len(first["items"]) == 2 and first["nextPageToken"]
    rest = google.list(calendarId="primary", maxResults=2, pageToken=first["nextPageToken"])
    assert len(rest.execute()["items"]) == 2  # the third block and the standup


def test_etag_changes_on_every_write(google: Any, sandbox: Sandbox) -> None:
    tags = [google.insert(calendarId="primary", body=block()).execute()["etag"]]
    patch = {"summary": "Data refresh, again"}
    tags.append(
        google.patch(calendarId="primary", eventId="blockaaaa1", body=patch).execute()["etag"]
    )
    tags.append(
        google.patch(calendarId="primary", eventId="blockaaaa1", body=patch).execute()["etag"]
    )
    tags.append(sandbox.service("calendar").edit_event("blockaaaa1", summary="by hand")["etag"])
    assert len(set(tags)) == 4


def test_patch_merges_private_properties_whatever_their_names(google: Any) -> None:
    """Patch semantics merge nested objects; only the resource's own read-only fields (such as
    its `kind`) are ignored, not a private property that happens to share a name."""
    google.insert(calendarId="primary", body=block()).execute()
    props = {"extendedProperties": {"private": {"kind": "x", "etag": "y"}}}
    patched = google.patch(calendarId="primary", eventId="blockaaaa1", body=props).execute()
    assert patched["extendedProperties"]["private"] == {
        "aligner": "calendar-block",
        "alignerBlock": "a",
        "kind": "x",
        "etag": "y",
    }
    assert patched["kind"] == "calendar#event"


def test_patch_brings_a_cancelled_event_back_but_cannot_change_its_type(google: Any) -> None:
    google.insert(calendarId="primary", body=block()).execute()
    google.delete(calendarId="primary", eventId="blockaaaa1").execute()
    back = google.patch(calendarId="primary", eventId="blockaaaa1", body={"status": "confirmed"})
    assert back.execute()["status"] == "confirmed"
    retype = google.patch(calendarId="primary", eventId="blockaaaa1", body={"eventType": "default"})
    assert error(retype) == (400, "eventTypeRestriction")


def test_focus_time_rules(google: Any, sandbox: Sandbox) -> None:
    team = "c0team@group.calendar.google.com"
    assert error(google.insert(calendarId=team, body=block()))[0] == 400  # primary only
    with_guest = block(attendees=[{"email": "sam@example.com"}])
    assert error(google.insert(calendarId="primary", body=with_guest))[0] == 400
    free = block(transparency="transparent")
    assert error(google.insert(calendarId="primary", body=free))[0] == 400
    all_day = block(start={"date": "2026-12-02"}, end={"date": "2026-12-03"})
    assert error(google.insert(calendarId="primary", body=all_day))[0] == 400
    plain = block("plainaaaa1", eventType="default", focusTimeProperties=None)
    assert google.insert(calendarId=team, body=plain).execute()["eventType"] == "default"
    assert google.insert(calendarId=EMAIL, body=block()).execute()["eventType"] == "focusTime"


def test_consumer_accounts_refuse_or_quietly_store_focus_time(
    google: Any, sandbox: Sandbox
) -> None:
    calendar = sandbox.service("calendar")
    calendar.set_account(workspace=False, consumer_focus="refuse")
    assert error(google.insert(calendarId="primary", body=block())) == (400, "invalid")
    calendar.set_account(workspace=False, consumer_focus="store-default")
    stored = google.insert(calendarId="primary", body=block()).execute()
    assert stored["eventType"] == "default" and "focusTimeProperties" not in stored


def test_times_are_checked(google: Any) -> None:
    backwards = block(end=when("2026-12-02T09:00:00"))
    assert error(google.insert(calendarId="primary", body=backwards)) == (400, "timeRangeEmpty")
    no_end = block()
    del no_end["end"]
    assert error(google.insert(calendarId="primary", body=no_end)) == (400, "required")
    naive = block(start={"dateTime": "2026-12-02T10:00:00"})
    assert error(google.insert(calendarId="primary", body=naive)) == (400, "required")


def test_an_unknown_token_is_401_and_a_missing_scope_403(sandbox: Sandbox) -> None:
    with client(sandbox, "ya29.unknown") as service, pytest.raises(RefreshError):
        service.events().list(calendarId="primary").execute()  # google-auth tries to refresh
    assert [r.status for r in sandbox.requests("calendar")] == [401]
    readonly = "https://www.googleapis.com/auth/calendar.readonly"
    sandbox.service("calendar").accounts.grant("ya29.readonly", readonly)
    with client(sandbox, "ya29.readonly") as service:
        insert = service.events().insert(calendarId="primary", body=block())
        assert error(insert) == (403, "insufficientPermissions")
        assert service.events().list(calendarId="primary").execute()["items"]


def test_faults_are_named_per_operation(google: Any, sandbox: Sandbox) -> None:
    sandbox.inject("calendar.events.insert", "status", status=403)
    assert error(google.insert(calendarId="primary", body=block())) == (403, "rateLimitExceeded")
    assert [r.operation for r in sandbox.requests("calendar")] == ["calendar.events.insert"]
    assert sandbox.requests("calendar", writes=True)[0].status == 403


# -- the client side of duplicate ids, against the same sandbox ---------------------------------


def test_create_brings_back_a_cancelled_event_it_finds_under_its_id(
    google: Any, sandbox: Sandbox, api: CalendarApi
) -> None:
    google.insert(calendarId="primary", body=block()).execute()
    google.delete(calendarId="primary", eventId="blockaaaa1").execute()
    sandbox.clear_log()
    body = {k: v for k, v in block().items() if k != "id"}
    event = api.create("primary", body, ["blockaaaa1", "blockaaaa1g1"])
    assert event["id"] == "blockaaaa1" and event["status"] == "confirmed"
    assert [(r.operation, r.status) for r in sandbox.requests("calendar")] == [
        ("calendar.events.insert", 409),
        ("calendar.events.get", 200),
        ("calendar.events.patch", 200),
    ]


def test_create_moves_on_to_a_fresh_id_when_google_will_not_revive(
    google: Any, sandbox: Sandbox, api: CalendarApi
) -> None:
    google.insert(calendarId="primary", body=block()).execute()
    google.delete(calendarId="primary", eventId="blockaaaa1").execute()
    sandbox.service("calendar").revivable = False
    body = {k: v for k, v in block().items() if k != "id"}
    assert api.create("primary", body, ["blockaaaa1", "blockaaaa1g1"])["id"] == "blockaaaa1g1"


def test_create_updates_a_live_event_it_finds_under_its_id(
    google: Any, sandbox: Sandbox, api: CalendarApi
) -> None:
    google.insert(calendarId="primary", body=block(summary="Old title")).execute()
    body = {k: v for k, v in block().items() if k != "id"}
    assert api.create("primary", body, ["blockaaaa1"])["summary"] == "Data refresh"
    sandbox.clear_log()
    assert api.create("primary", body, ["blockaaaa1"])["summary"] == "Data refresh"
    assert [r.operation for r in sandbox.requests("calendar", writes=True)] == [
        "calendar.events.insert"  # the 409; nothing to update
    ]


def test_update_replaces_the_event_but_keeps_its_type(google: Any) -> None:
    google.insert(calendarId="primary", body=block(description="notes")).execute()
    body = {k: v for k, v in block().items() if k not in ("eventType", "description")}
    body["summary"] = "Renamed"
    updated = google.update(calendarId="primary", eventId="blockaaaa1", body=body).execute()
    assert updated["summary"] == "Renamed" and "description" not in updated
    assert updated["eventType"] == "focusTime"
    google.delete(calendarId="primary", eventId="blockaaaa1").execute()
    revived = google.update(
        calendarId="primary", eventId="blockaaaa1", body={**body, "status": "confirmed"}
    )
    assert revived.execute()["status"] == "confirmed"


def test_id_length_limits(google: Any) -> None:
    assert google.insert(calendarId="primary", body=block("a" * 1024)).execute()["id"]
    assert error(google.insert(calendarId="primary", body=block("a" * 1025))) == (400, "invalid")
    assert google.insert(calendarId="primary", body=block("v0000")).execute()["id"] == "v0000"


def test_if_match_guards_patch_update_and_delete_but_not_insert(
    sandbox: Sandbox, google: Any
) -> None:
    """Conditional modification (https://developers.google.com/calendar/api/guides/version-resources):
    a stale If-Match is 412 for patch, update and delete; the current etag or `*` passes."""
    event = google.insert(calendarId="primary", body=block()).execute()
    stale = event["etag"]
    sandbox.service("calendar").edit_event(event["id"], summary="Edited by hand")
    current = sandbox.service("calendar").event(event["id"])["etag"]

    def status(request: Any, etag: str) -> int:
        request.headers["If-Match"] = etag
        try:
            request.execute()
        except HttpError as exc:
            body = json.loads(exc.content)["error"]
            assert body["errors"][0]["reason"] == "conditionNotMet"
            return int(exc.resp.status)
        return 200

    patch = {"calendarId": "primary", "eventId": event["id"], "body": {"description": "x"}}
    assert status(google.patch(**patch), stale) == 412
    assert status(google.update(**{**patch, "body": block(summary="Whole")}), stale) == 412
    assert status(google.delete(calendarId="primary", eventId=event["id"]), stale) == 412
    assert sandbox.service("calendar").event(event["id"])["summary"] == "Edited by hand"
    assert status(google.patch(**patch), current) == 200
    assert status(google.patch(**patch), "*") == 200
    assert google.patch(**patch).execute()["description"] == "x"  # no If-Match: unconditional
