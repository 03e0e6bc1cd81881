"""Google Calendar: the behaviours aligner's calendar blocks rely on (see conftest for targets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aligner.vendors.google.scopes import CALENDAR_EVENTS
from tests.contract.conftest import CONTRACT_PROP, RUN, GoogleTarget, fresh_event_id

Cleanup = Callable[[Callable[[], Any]], None]
FOCUS = {
    "eventType": "focusTime",
    "transparency": "opaque",
    "focusTimeProperties": {
        "autoDeclineMode": "declineNone",
        "chatStatus": "available",
    },
}


def test_insert_with_a_client_chosen_id_then_409_when_the_id_is_reused(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """A client-chosen id is kept, and inserting it again is refused with 409: aligner derives
    each block's id, so a retried insert cannot duplicate a block.

    https://developers.google.com/calendar/api/v3/reference/events (`id`: "you can provide
    your own ID ... base32hex"), https://developers.google.com/calendar/api/guides/version-resources
    ("if you are allowed to provide a resource ID, then the operation will only succeed if no
    existing entry has that ID"), 409 in https://developers.google.com/calendar/api/guides/errors.
    """
    wanted = fresh_event_id()
    event = google.insert({"id": wanted})
    cleanup(lambda: google.delete_quietly(wanted))
    assert event["id"] == wanted
    again = google.status(
        google.events.insert(calendarId="primary", body={**_bare(event)}, sendUpdates="none"),
        CALENDAR_EVENTS,
        409,
    )
    assert again.status == 409
    assert again.reason == "duplicate"


def test_patch_with_if_match_then_412_on_a_stale_etag(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """A patch carrying the current etag in If-Match succeeds and moves the etag on; the old
    etag then answers 412, for patch and for delete: aligner's conditional writes.

    https://developers.google.com/calendar/api/guides/version-resources ("Conditional
    modification": If-Match, "Otherwise, you will get a 412 (Precondition failed)").
    """
    event = google.insert({})
    cleanup(lambda: google.delete_quietly(event["id"]))
    fresh = google.events.patch(
        calendarId="primary", eventId=event["id"], body={"description": "one"}, sendUpdates="none"
    )
    fresh.headers["If-Match"] = event["etag"]
    patched = google.run(fresh, CALENDAR_EVENTS)
    assert patched["etag"] != event["etag"]
    assert patched["description"] == "one"

    stale = google.events.patch(
        calendarId="primary", eventId=event["id"], body={"description": "two"}, sendUpdates="none"
    )
    stale.headers["If-Match"] = event["etag"]
    assert google.status(stale, CALENDAR_EVENTS, 412).status == 412
    stale_delete = google.events.delete(
        calendarId="primary", eventId=event["id"], sendUpdates="none"
    )
    stale_delete.headers["If-Match"] = event["etag"]
    assert google.status(stale_delete, CALENDAR_EVENTS, 412).status == 412
    kept = google.run(google.events.get(calendarId="primary", eventId=event["id"]), CALENDAR_EVENTS)
    assert kept["description"] == "one"
    assert kept["status"] == "confirmed"


def test_a_deleted_event_is_revived_under_its_id_or_refused_as_aligner_expects(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """A deleted event keeps its id (status "cancelled"), its id cannot be inserted again (409),
    and patching `status: confirmed` brings it back. Where Google refuses that (403/404/410,
    reported for some accounts), aligner moves on to the block's next id: that refusal is the
    documented alternative this test accepts.

    https://developers.google.com/calendar/api/v3/reference/events (`status`: "cancelled" for
    deleted events), https://developers.google.com/calendar/api/v3/reference/events/patch,
    https://developers.google.com/calendar/api/v3/reference/events/delete; the refusal is
    reported, not documented: https://github.com/googleapis/google-api-ruby-client/issues/1811
    """
    event = google.insert({})
    cleanup(lambda: google.delete_quietly(event["id"]))
    google.run(
        google.events.delete(calendarId="primary", eventId=event["id"], sendUpdates="none"),
        CALENDAR_EVENTS,
    )
    gone = google.run(
        google.events.get(calendarId="primary", eventId=event["id"]),
        CALENDAR_EVENTS,
        expect=(404, 410),
    )
    assert gone["status"] == "cancelled"
    reinsert = google.events.insert(calendarId="primary", body=_bare(event), sendUpdates="none")
    assert google.status(reinsert, CALENDAR_EVENTS, 409).status == 409

    revive = google.events.patch(
        calendarId="primary",
        eventId=event["id"],
        body={"status": "confirmed", "summary": event["summary"]},
        sendUpdates="none",
    )
    try:
        revived = google.run(revive, CALENDAR_EVENTS, expect=(403, 404, 410))
    except Exception as refused:  # GoogleStatus: aligner then uses the block's next id
        assert getattr(refused, "status", None) in (403, 404, 410), refused
        return
    assert revived["id"] == event["id"]
    assert revived["status"] == "confirmed"
    again = google.run(
        google.events.get(calendarId="primary", eventId=event["id"]), CALENDAR_EVENTS
    )
    assert again["status"] == "confirmed"


def test_focus_time_does_not_stick_on_a_consumer_account(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """Focus time is "only available on primary calendars, and to some Google Calendar users":
    on a consumer account Google either refuses it (400) or keeps a plain event. aligner
    handles both (it falls back to busy blocks); this checks it is one of the two.

    https://developers.google.com/calendar/api/guides/calendar-status
    """
    if google.sandbox is not None:
        google.sandbox.service("calendar").set_account(workspace=False)
    else:
        primary = google.run(
            google.events.list(calendarId="primary", maxResults=1), CALENDAR_EVENTS
        )
        summary = str(primary.get("summary", ""))
        if not summary.endswith(("@gmail.com", "@googlemail.com")):
            pytest.skip(
                f"the live Google account looks like Workspace (primary calendar {summary!r}); "
                "focus time is refused only on consumer accounts"
            )
    try:
        event = google.insert(FOCUS)
    except Exception as refused:
        assert getattr(refused, "http_status", None) == 400, refused
        return
    cleanup(lambda: google.delete_quietly(event["id"]))
    assert event.get("eventType", "default") != "focusTime"


def test_private_extended_property_filter_is_an_and_and_show_deleted_includes_tombstones(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """events.list with repeated `privateExtendedProperty` returns only events matching all the
    constraints; with `showDeleted` a deleted one that matched comes back as "cancelled". aligner
    reads every block it owns (deleted ones included) with one such call.

    https://developers.google.com/calendar/api/v3/reference/events/list (`privateExtendedProperty`:
    "This parameter might be repeated multiple times to return events that match all given
    constraints"; `showDeleted`), https://developers.google.com/calendar/api/guides/extended-properties
    """
    both = google.insert({}, contractRole="block")
    only_run = google.insert({})
    deleted = google.insert({}, contractRole="block")
    for made in (both, only_run, deleted):
        cleanup(lambda made=made: google.delete_quietly(made["id"]))
    google.run(
        google.events.delete(calendarId="primary", eventId=deleted["id"], sendUpdates="none"),
        CALENDAR_EVENTS,
    )
    constraints = [f"contractRun={RUN}", "contractRole=block"]

    def listed(show_deleted: bool) -> dict[str, str]:
        page = google.run(
            google.events.list(
                calendarId="primary",
                privateExtendedProperty=constraints,
                showDeleted=show_deleted,
                maxResults=2500,
            ),
            CALENDAR_EVENTS,
        )
        return {e["id"]: e.get("status", "confirmed") for e in page.get("items") or []}

    assert listed(False) == {both["id"]: "confirmed"}
    assert listed(True) == {both["id"]: "confirmed", deleted["id"]: "cancelled"}
    alone = google.run(
        google.events.list(
            calendarId="primary",
            privateExtendedProperty=[f"{CONTRACT_PROP}=1", f"contractRun={RUN}"],
        ),
        CALENDAR_EVENTS,
    )
    assert {e["id"] for e in alone.get("items") or []} == {both["id"], only_run["id"]}


def _bare(event: dict[str, Any]) -> dict[str, Any]:
    """An event as a request body (the read-only fields left out)."""
    keep = ("id", "summary", "start", "end", "extendedProperties")
    return {k: event[k] for k in keep if k in event}
