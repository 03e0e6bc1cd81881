"""Microsoft Graph: the behaviours the Teams status, the Outlook calendar blocks and the note from
Outlook rely on (see conftest for targets).

The live token is a delegated token of a work or school test account with Presence.ReadWrite,
Calendars.ReadWrite and Mail.ReadWrite (Graph answers presence only for such accounts). The live
half never sends mail: sending is checked against the sandbox alone, so Mail.Send is not needed.
Every call goes through aligner's own `Graph` client, and where aligner parses or builds a body
(the status message, the event view, the note's message and its filter) the test uses aligner's
own functions, so a change of shape on either side fails here.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aligner.surfaces.calendar.outlook_api import TEXT_BODY, mark_filter
from aligner.surfaces.calendar.outlook_events import outlook_view_of
from aligner.surfaces.note.message import NoteContent
from aligner.surfaces.note.outlook import MARK_PROPERTY, SELECT, OutlookMailbox, message_json
from aligner.surfaces.teams_status.surface import CLEARED, iso, request_body, status_of
from aligner.vendors.microsoft.errors import (
    GraphAuthError,
    GraphNotFound,
    GraphPreconditionFailed,
    GraphUnavailable,
)
from aligner.vendors.microsoft.graph import Answer
from tests.contract.conftest import (
    CONTRACT_TEXT,
    GRAPH_CONTRACT_PROP,
    GRAPH_RUN_PROP,
    RUN,
    GraphTarget,
    drop_backup,
    graph_item,
    save_backup,
)

Cleanup = Callable[[Callable[[], Any]], None]
PRESENCE = "me/presence"
SET_STATUS = "me/presence/setStatusMessage"
EVENTS = "me/calendar/events"
NOBODY = "contract-check@example.com"  # RFC 2606: a draft addressed here can reach no one


def _eventually(read: Callable[[], Any], wanted: Any, graph: GraphTarget) -> Any:
    """`read()` once on the sandbox; live, a few times over some seconds (presence is
    propagated, not stored in one place). Returns the last value read."""
    seen = read()
    for _ in range(5 if graph.live else 0):
        if seen == wanted:
            break
        time.sleep(2)
        seen = read()
    return seen


# -- presence (Teams status message) -------------------------------------------------------------


def _presence(graph: GraphTarget) -> dict[str, Any]:
    return graph.client().get(PRESENCE).json()


def _status(graph: GraphTarget) -> dict[str, Any]:
    """The status message as aligner's Teams surface reads it."""
    return status_of(_presence(graph).get("statusMessage"))


def _keep_status(graph: GraphTarget, cleanup: Cleanup) -> None:
    """Remember the status message now (a backup file survives a crash) and put it back."""
    original = _status(graph)
    expires = original.get("expires_at")
    if expires and datetime.fromisoformat(expires) <= datetime.now(UTC) + timedelta(minutes=1):
        original = dict(CLEARED)
    if graph.live:
        save_backup("teams-status", original)

    def restore() -> None:
        graph.client().post(SET_STATUS, request_body(original))
        drop_backup("teams-status")

    cleanup(restore)


def _soon() -> str:
    """An expiry ten minutes ahead, whole seconds (a leftover clears itself)."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    text = iso(moment)
    assert text is not None
    return text


def test_presence_has_id_and_status_message_in_the_shape_aligner_parses(
    graph: GraphTarget,
) -> None:
    """GET /me/presence answers the user's object id as `id` (aligner's account id) and a
    `statusMessage` that is null or a presenceStatusMessage: `message` an itemBody of
    contentType "text", `expiryDateTime` (when set) a dateTimeTimeZone without an offset.

    https://learn.microsoft.com/en-us/graph/api/presence-get,
    https://learn.microsoft.com/en-us/graph/api/resources/presencestatusmessage,
    https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone
    """
    presence = _presence(graph)
    assert isinstance(presence.get("id"), str) and presence["id"]
    assert "statusMessage" in presence
    node = presence["statusMessage"]
    assert node is None or isinstance(node, dict)
    if node and (node.get("message") or {}).get("content"):
        assert str(node["message"].get("contentType", "")).lower() == "text"
        expiry = node.get("expiryDateTime")
        if expiry:
            assert set(expiry) >= {"dateTime", "timeZone"}
            assert not str(expiry["dateTime"]).endswith("Z")
    parsed = status_of(node)
    assert set(parsed) == {"message", "expires_at"}


def test_set_status_message_with_expiry_then_get_shows_it(
    graph: GraphTarget, cleanup: Cleanup
) -> None:
    """setStatusMessage with aligner's body (content, contentType "text", expiryDateTime in
    UTC) answers 200; the next GET /me/presence reads back the same text and instant.

    https://learn.microsoft.com/en-us/graph/api/presence-setstatusmessage ("If successful,
    this method returns a 200 OK response code"),
    https://learn.microsoft.com/en-us/graph/api/resources/presencestatusmessage
    """
    _keep_status(graph, cleanup)
    wanted = {"message": f"{CONTRACT_TEXT} {RUN}", "expires_at": _soon()}
    answer = graph.client().post(SET_STATUS, request_body(wanted))
    assert answer.status == 200
    assert _eventually(lambda: _status(graph), wanted, graph) == wanted
    node = _presence(graph)["statusMessage"]
    assert node["message"]["content"] == wanted["message"]


def test_an_empty_content_clears_the_status_message(graph: GraphTarget, cleanup: Cleanup) -> None:
    """Graph documents no "clear" call; what clients send, and aligner sends to give back "no
    message", is an empty content. After it the presence reads as no message (null or empty).

    https://learn.microsoft.com/en-us/graph/api/presence-setstatusmessage (no clear documented)
    """
    _keep_status(graph, cleanup)
    client = graph.client()
    client.post(
        SET_STATUS, request_body({"message": f"{CONTRACT_TEXT} {RUN}", "expires_at": _soon()})
    )
    answer = client.post(SET_STATUS, request_body(CLEARED))
    assert answer.status == 200
    assert _eventually(lambda: _status(graph), CLEARED, graph) == CLEARED


# -- calendar events (Outlook calendar blocks) ---------------------------------------------------


def _event_body(token: str, **fields: Any) -> dict[str, Any]:
    """An event as aligner creates a block (busy, text body, UTC times, no reminder), marked
    with the contract tests' own properties instead of aligner's."""
    return {
        "subject": f"{CONTRACT_TEXT} {RUN}",
        "body": {"contentType": "text", "content": "A contract-check event."},
        "start": {"dateTime": "2030-01-07T10:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-07T10:30:00", "timeZone": "UTC"},
        "showAs": "busy",
        "sensitivity": "normal",
        "isReminderOn": False,
        "singleValueExtendedProperties": [
            {"id": GRAPH_CONTRACT_PROP, "value": "1"},
            {"id": GRAPH_RUN_PROP, "value": f"{RUN}-{token}"},
        ],
        **fields,
    }


def _create(graph: GraphTarget, cleanup: Cleanup, body: dict[str, Any]) -> Answer:
    answer = graph.client().post(EVENTS, body)
    made = str(answer.json()["id"])
    cleanup(lambda: graph.delete_quietly(graph_item("events", made)))
    return answer


def _expand(prop_id: str) -> str:
    return f"singleValueExtendedProperties($filter=id eq '{prop_id}')"


def _marked(graph: GraphTarget, token: str) -> list[dict[str, Any]]:
    """The events carrying run mark `token`, listed as aligner lists its blocks."""
    return graph.listed(
        "me/events",
        {
            "$filter": mark_filter(GRAPH_RUN_PROP, f"{RUN}-{token}"),
            "$expand": _expand(GRAPH_RUN_PROP),
            "$top": "100",
        },
    )


def test_a_create_repeated_with_its_transaction_id_makes_no_second_event(
    graph: GraphTarget, cleanup: Cleanup
) -> None:
    """POST /me/calendar/events with a transactionId answers 201 with the event (and the
    transactionId, "only returned ... if an app has set it"); the same POST again, as aligner
    sends after a lost answer, makes no second event: it answers the same event id. Graph
    documents the purpose ("to avoid redundant POST operations in case of client retries") but
    not the answer; the sandbox answers 201 with the existing event. If live Graph answers
    otherwise (another status, or a duplicate), this test shows it.

    https://learn.microsoft.com/en-us/graph/api/resources/event (transactionId),
    https://learn.microsoft.com/en-us/graph/api/calendar-post-events
    """
    token = secrets.token_hex(4)
    body = _event_body(token, transactionId=str(uuid.uuid4()))
    first = _create(graph, cleanup, body)
    assert first.status == 201
    assert first.json()["transactionId"] == body["transactionId"]
    second = _create(graph, cleanup, body)
    assert second.status in (200, 201)
    assert second.json()["id"] == first.json()["id"]
    assert [e["id"] for e in _marked(graph, token)] == [first.json()["id"]]


def test_the_extended_property_filter_with_expand_finds_just_the_marked_event(
    graph: GraphTarget, cleanup: Cleanup
) -> None:
    """GET /me/events with aligner's `$filter=singleValueExtendedProperties/Any(ep: ep/id eq
    '…' and ep/value eq '…')` lists only the events whose property has that value, and
    `$expand=singleValueExtendedProperties($filter=id eq '…')` carries the property back, on
    the list and on a single GET (aligner reads a block's key this way).

    https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get,
    https://learn.microsoft.com/en-us/graph/api/resources/extended-properties-overview
    """
    token, other = secrets.token_hex(4), secrets.token_hex(4)
    wanted = _create(graph, cleanup, _event_body(token)).json()
    _create(graph, cleanup, _event_body(other))
    found = _marked(graph, token)
    assert [e["id"] for e in found] == [wanted["id"]]
    assert found[0]["singleValueExtendedProperties"] == [
        {"id": GRAPH_RUN_PROP, "value": f"{RUN}-{token}"}
    ]
    one = graph.client().get(
        graph_item("events", wanted["id"]), {"$expand": _expand(GRAPH_RUN_PROP)}, headers=TEXT_BODY
    )
    assert one.json()["singleValueExtendedProperties"] == found[0]["singleValueExtendedProperties"]
    assert outlook_view_of(one.json())["description"] == "A contract-check event."


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    graph: GraphTarget, cleanup: Cleanup
) -> None:
    """PATCH with `If-Match: <@odata.etag>` as read succeeds and moves the etag on; the old
    etag then answers 412, for PATCH and for DELETE, and the event keeps the first change.
    Graph does not document If-Match for events; Exchange compares it with the change key
    (reported: https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/1201).

    https://learn.microsoft.com/en-us/graph/api/event-update,
    https://learn.microsoft.com/en-us/graph/api/event-delete
    """
    event = _create(graph, cleanup, _event_body(secrets.token_hex(4))).json()
    path = graph_item("events", event["id"])
    client = graph.client()
    etag = event["@odata.etag"]
    patched = client.patch(path, {"subject": f"{CONTRACT_TEXT} one"}, headers={"If-Match": etag})
    assert patched.status == 200
    assert patched.json()["@odata.etag"] != etag
    with pytest.raises(GraphPreconditionFailed) as stale:
        client.patch(path, {"subject": f"{CONTRACT_TEXT} two"}, headers={"If-Match": etag})
    assert stale.value.http_status == 412
    with pytest.raises(GraphPreconditionFailed):
        client.delete(path, headers={"If-Match": etag})
    assert client.get(path).json()["subject"] == f"{CONTRACT_TEXT} one"


def test_delete_is_204_and_the_event_is_then_404(graph: GraphTarget, cleanup: Cleanup) -> None:
    """DELETE /me/events/{id} answers 204 No Content; a GET of the id then answers 404 (aligner
    counts a delete that meets 404 as done).

    https://learn.microsoft.com/en-us/graph/api/event-delete,
    https://learn.microsoft.com/en-us/graph/api/event-get
    """
    event = _create(graph, cleanup, _event_body(secrets.token_hex(4))).json()
    path = graph_item("events", event["id"])
    client = graph.client()
    answer = client.delete(path)
    assert answer.status == 204
    assert answer.body is None
    with pytest.raises(GraphNotFound) as gone:
        client.get(path)
    assert gone.value.http_status == 404
    with pytest.raises(GraphNotFound):
        client.delete(path)


def test_show_as_and_sensitivity_round_trip(graph: GraphTarget, cleanup: Cleanup) -> None:
    """`showAs` and `sensitivity` are kept as sent, on create and on update, and aligner's view
    reads them as the block's transparency and visibility.

    https://learn.microsoft.com/en-us/graph/api/resources/event (showAs, sensitivity)
    """
    body = _event_body(secrets.token_hex(4), sensitivity="private")
    event = _create(graph, cleanup, body).json()
    assert (event["showAs"], event["sensitivity"]) == ("busy", "private")
    path = graph_item("events", event["id"])
    client = graph.client()
    read = outlook_view_of(client.get(path).json())
    assert (read["transparency"], read["visibility"]) == ("busy", "private")
    client.patch(path, {"showAs": "free", "sensitivity": "normal"})
    read = outlook_view_of(client.get(path).json())
    assert (read["transparency"], read["visibility"]) == ("free", "normal")


# -- messages (the note from Outlook) ------------------------------------------------------------


def _note(token: str) -> NoteContent:
    return NoteContent(
        to=(NOBODY,),
        cc=(),
        subject=f"{CONTRACT_TEXT} {RUN} {token}",
        text="A draft the contract tests make and delete again.",
    )


def _draft(graph: GraphTarget, cleanup: Cleanup, mark: str) -> Answer:
    """A draft made exactly as the note makes one (aligner's message JSON and mark)."""
    answer = graph.client().post("me/messages", message_json(_note(mark), mark), resend=False)
    made = str(answer.json()["id"])
    cleanup(lambda: graph.delete_quietly(graph_item("messages", made)))
    return answer


def test_a_draft_carries_the_private_property_and_is_found_by_it_then_deleted(
    graph: GraphTarget, cleanup: Cleanup
) -> None:
    """POST /me/messages answers 201 with a draft (isDraft true); the note's filter on
    mailFolders/drafts/messages finds it by its private extended property, with the changeKey
    the create answered (the note tells a hand edit of its draft by a changed changeKey, so
    Outlook must not change it on its own); DELETE answers 204 and the draft is then gone (GET
    404, and the filter no longer finds it).

    https://learn.microsoft.com/en-us/graph/api/user-post-messages,
    https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get,
    https://learn.microsoft.com/en-us/graph/api/resources/mailfolder (well-known names),
    https://learn.microsoft.com/en-us/graph/api/message-delete
    """
    mark = f"{CONTRACT_TEXT}-{RUN}-{secrets.token_hex(4)}"
    answer = _draft(graph, cleanup, mark)
    draft = answer.json()
    assert answer.status == 201
    assert draft["isDraft"] is True
    mailbox = OutlookMailbox(graph.client())
    by_id = mailbox.draft(draft["id"])  # GET /me/messages/{id}, as the note reads its draft
    found = _eventually(lambda: mailbox.find(mark), by_id, graph)
    assert found is not None and found.draft_id == draft["id"]
    assert found == by_id
    assert found.message_id == draft["changeKey"]
    selected = graph.client().get(graph_item("messages", draft["id"]), {"$select": SELECT})
    assert selected.json()["isDraft"] is True

    deleted = graph.client().delete(graph_item("messages", draft["id"]))
    assert deleted.status == 204
    assert mailbox.draft(draft["id"]) is None
    assert mailbox.find(mark) is None
    assert mailbox.delete(draft["id"]) is False  # already gone: 404


def test_send_is_202_and_the_draft_id_is_then_404(graph: GraphTarget, cleanup: Cleanup) -> None:
    """POST /me/messages/{id}/send answers 202 Accepted with no body; the draft's id then
    answers 404 and the sent copy (a new id, in Sent Items) still carries the mark. Checked in
    the sandbox only: the live half never sends mail.

    https://learn.microsoft.com/en-us/graph/api/message-send,
    https://learn.microsoft.com/en-us/graph/api/resources/message (the id "may change if a
    message is moved")
    """
    if graph.live:
        pytest.skip("sending is checked in the sandbox only: the live contract never sends mail")
    mark = f"{CONTRACT_TEXT}-{RUN}-{secrets.token_hex(4)}"
    draft = _draft(graph, cleanup, mark).json()
    sent = graph.client().post(graph_item("messages", draft["id"]) + "/send", resend=False)
    assert sent.status == 202
    assert sent.body is None
    with pytest.raises(GraphNotFound) as gone:
        graph.client().get(graph_item("messages", draft["id"]))
    assert gone.value.http_status == 404
    mailbox = OutlookMailbox(graph.client())
    copy = mailbox.sent(mark)
    assert copy is not None and copy.message_id not in ("", draft["id"])


def _pages(graph: GraphTarget, path: str, params: dict[str, str]) -> list[list[str]]:
    """The ids of each page, following `@odata.nextLink` as aligner does: a next link must be
    on the same Graph endpoint (aligner refuses another host: its token goes nowhere else)."""
    client = graph.client()
    pages: list[list[str]] = []
    page: dict[str, str] | None = params
    while len(pages) < 5:
        body = client.get(path, page).json()
        pages.append([str(item["id"]) for item in body.get("value") or []])
        link = body.get("@odata.nextLink")
        if not link:
            return pages
        assert str(link).startswith(graph.base_url), link
        path, page = str(link)[len(graph.base_url) :], None
    return pages


@pytest.mark.parametrize("kind", ["events", "drafts"])
def test_a_filtered_list_pages_with_a_next_link_on_the_same_endpoint(
    graph: GraphTarget, cleanup: Cleanup, kind: str
) -> None:
    """A filtered list with `$top=1` answers one item a page and an `@odata.nextLink` to the
    next, an absolute URL on the endpoint asked ("sending the URL value of the @odata.nextLink
    property to Microsoft Graph" retrieves the next page); the pages together hold every match
    once. aligner's block list follows next links and refuses one on another host.

    https://learn.microsoft.com/en-us/graph/paging,
    https://learn.microsoft.com/en-us/graph/api/user-list-events,
    https://learn.microsoft.com/en-us/graph/api/user-list-messages
    """
    token = secrets.token_hex(4)
    if kind == "events":
        made = {str(_create(graph, cleanup, _event_body(token)).json()["id"]) for _ in range(2)}
        where = mark_filter(GRAPH_RUN_PROP, f"{RUN}-{token}")
        path = "me/events"
    else:
        mark = f"{CONTRACT_TEXT}-{RUN}-{token}"
        made = {str(_draft(graph, cleanup, mark).json()["id"]) for _ in range(2)}
        where = mark_filter(MARK_PROPERTY, mark)
        path = "me/mailFolders/drafts/messages"
    pages = _pages(graph, path, {"$filter": where, "$top": "1", "$select": "id"})
    assert [len(p) for p in pages if p] == [1, 1]
    assert {i for p in pages for i in p} == made


# -- auth and throttling -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PRESENCE, "me/events"])
def test_a_token_graph_does_not_accept_is_401_invalid_authentication_token(
    graph: GraphTarget, path: str
) -> None:
    """A token Graph does not accept answers 401 with code InvalidAuthenticationToken; aligner
    raises a GraphAuthError (fail fast) carrying Graph's code and status.

    https://learn.microsoft.com/en-us/graph/errors (401 Unauthorized),
    https://learn.microsoft.com/en-us/graph/resolve-auth-errors
    """
    with pytest.raises(GraphAuthError) as refused:
        graph.client("not-a-valid-token").get(path)
    assert refused.value.http_status == 401
    assert refused.value.code == "InvalidAuthenticationToken"


def test_no_token_is_401(graph: GraphTarget) -> None:
    """A request whose Authorization header carries no token answers 401
    InvalidAuthenticationToken ("Access token is empty.").

    https://learn.microsoft.com/en-us/graph/errors, https://learn.microsoft.com/en-us/graph/auth/
    """
    with pytest.raises(GraphAuthError) as refused:
        graph.client().get(PRESENCE, headers={"Authorization": ""})
    assert refused.value.http_status == 401
    assert refused.value.code == "InvalidAuthenticationToken"


def test_a_429_is_waited_out_after_retry_after(graph: GraphTarget, waits: list[float]) -> None:
    """Throttling answers 429 with Retry-After (seconds); aligner's client waits that long and
    sends again, and with `resend=False` hands a transient GraphUnavailable to the caller
    instead. Only the sandbox is made to throttle (fault injection): provoking it on a real
    tenant would mean hammering it.

    https://learn.microsoft.com/en-us/graph/throttling
    """
    if graph.sandbox is None:
        pytest.skip("throttling is checked in the sandbox only (not provoked on Graph)")
    graph.sandbox.inject("presence.get", status=429, retry_after=3)
    assert graph.client().get(PRESENCE).status == 200
    assert waits == [3.0]
    assert len(graph.sandbox.requests(operation="presence.get")) == 2
    graph.sandbox.inject("presence.get", status=429, retry_after=3)
    with pytest.raises(GraphUnavailable) as throttled:
        graph.client().get(PRESENCE, resend=False)
    assert (throttled.value.http_status, throttled.value.code) == (429, "TooManyRequests")
    assert throttled.value.retry_after == 3.0
