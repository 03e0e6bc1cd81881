"""The sandbox's Outlook mail speaks Graph's wire shapes (checked with plain httpx calls)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.surfaces.note.outlook import MARK_PROPERTY
from tests.surfaces.note_outlook.helpers import outlook

MESSAGE: dict[str, Any] = {
    "subject": "Hello",
    "body": {"contentType": "HTML", "content": "<p>Hi</p>"},
    "toRecipients": [{"emailAddress": {"address": "sam@example.com"}}],
    "singleValueExtendedProperties": [{"id": MARK_PROPERTY, "value": "tok1"}],
}


@pytest.fixture
def graph(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sandbox.url}graph/v1.0/",
        headers={"Authorization": f"Bearer {GRAPH_TOKEN}"},
        trust_env=False,
    ) as client:
        yield client


def marked(value: str) -> dict[str, str]:
    return {
        "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{MARK_PROPERTY}' "
        f"and ep/value eq '{value}')"
    }


def test_create_answers_201_with_the_draft_as_graph_shows_it(graph: httpx.Client) -> None:
    answer = graph.post("me/messages", json=MESSAGE)
    assert answer.status_code == 201
    body = answer.json()
    assert body["@odata.context"].endswith("/messages/$entity")
    assert body["@odata.etag"].startswith('W/"') and body["isDraft"] is True
    assert body["body"]["contentType"] == "html" and "<p>Hi</p>" in body["body"]["content"]
    assert body["body"]["content"].startswith("<html>")
    for field in ("id", "createdDateTime", "changeKey", "internetMessageId", "conversationId"):
        assert body[field]
    assert "internetMessageHeaders" not in body and "singleValueExtendedProperties" not in body
    assert body["toRecipients"] == [
        {"emailAddress": {"name": "sam@example.com", "address": "sam@example.com"}}
    ]


def test_send_answers_202_and_the_draft_id_is_gone(graph: httpx.Client, sandbox: Sandbox) -> None:
    draft = graph.post("me/messages", json=MESSAGE).json()
    sent = graph.post(f"me/messages/{draft['id']}/send")
    assert sent.status_code == 202 and sent.content == b""
    gone = graph.get(f"me/messages/{draft['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"
    again = graph.post(f"me/messages/{draft['id']}/send")
    assert again.status_code == 404
    [copy] = graph.get("me/mailFolders/sentitems/messages", params=marked("TOK1")).json()["value"]
    assert copy["id"] != draft["id"] and copy["isDraft"] is False  # the value is case-blind
    assert graph.get("me/mailFolders/drafts/messages", params=marked("tok1")).json()["value"] == []
    [received] = outlook(sandbox).delivered
    assert received["recipients"] == ["sam@example.com"]
    assert dict(received["headers"])["Subject"] == "Hello"


def test_the_mark_filter_searches_the_whole_mailbox_and_only_the_named_folder(
    graph: httpx.Client,
) -> None:
    graph.post("me/messages", json=MESSAGE)
    assert len(graph.get("me/messages", params=marked("tok1")).json()["value"]) == 1
    assert graph.get("me/messages", params=marked("tok2")).json()["value"] == []
    in_sent = graph.get("me/mailFolders/SentItems/messages", params=marked("tok1"))
    assert in_sent.json()["value"] == []
    unknown = graph.get("me/messages", params={"$filter": "subject eq 'Hello'"})
    assert unknown.status_code == 400  # the sandbox emulates the extended-property form only


def test_select_returns_the_etag_id_and_the_chosen_properties(graph: httpx.Client) -> None:
    made = graph.post(
        "me/messages",
        json={**MESSAGE, "internetMessageHeaders": [{"name": "x-trip", "value": "north"}]},
    ).json()
    shown = graph.get(f"me/messages/{made['id']}", params={"$select": "subject"}).json()
    assert set(shown) == {"@odata.context", "@odata.etag", "id", "subject"}
    headers = graph.get(
        f"me/messages/{made['id']}", params={"$select": "internetMessageHeaders"}
    ).json()
    assert headers["internetMessageHeaders"] == [{"name": "x-trip", "value": "north"}]


def test_a_custom_header_must_start_with_x(graph: httpx.Client) -> None:
    answer = graph.post(
        "me/messages", json={**MESSAGE, "internetMessageHeaders": [{"name": "Trip", "value": "n"}]}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidInternetMessageHeader"


def test_a_property_in_the_internet_headers_set_reaches_the_recipient_as_a_header(
    graph: httpx.Client, sandbox: Sandbox
) -> None:
    """Why the note's mark lives in a property set of its own."""
    header = "String {00020386-0000-0000-C000-000000000046} Name X-Trip"
    made = graph.post(
        "me/messages",
        json={**MESSAGE, "singleValueExtendedProperties": [{"id": header, "value": "north"}]},
    ).json()
    graph.post(f"me/messages/{made['id']}/send")
    [received] = outlook(sandbox).delivered
    assert ("X-Trip", "north") in received["headers"]


def test_tokens_and_permissions(graph: httpx.Client, sandbox: Sandbox) -> None:
    none = httpx.post(f"{sandbox.url}graph/v1.0/me/messages", json=MESSAGE, trust_env=False)
    assert none.status_code == 401 and "WWW-Authenticate" in none.headers
    assert none.json()["error"]["code"] == "InvalidAuthenticationToken"
    outlook(sandbox).directory.grant("rw", "Mail.ReadWrite")
    draft = graph.post("me/messages", json=MESSAGE, headers={"Authorization": "Bearer rw"}).json()
    refused = graph.post(f"me/messages/{draft['id']}/send", headers={"Authorization": "Bearer rw"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ErrorAccessDenied"
    assert outlook(sandbox).delivered == []


def test_delete_moves_the_draft_to_deleted_items(graph: httpx.Client, sandbox: Sandbox) -> None:
    draft = graph.post("me/messages", json=MESSAGE).json()
    assert graph.delete(f"me/messages/{draft['id']}").status_code == 204
    assert graph.get(f"me/messages/{draft['id']}").status_code == 404
    [moved] = graph.get("me/mailFolders/deleteditems/messages", params=marked("tok1")).json()[
        "value"
    ]
    assert moved["isDraft"] is True


def test_faults_by_operation_name(graph: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.inject("messages.list", "status", status=429, retry_after=3)
    throttled = graph.get("me/messages")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert throttled.json()["error"]["code"] == "TooManyRequests"
    assert graph.get("me/messages").status_code == 200


def test_paths_that_are_not_mail_are_left_to_other_services(sandbox: Sandbox) -> None:
    from aligner.sandbox.http import Request

    service = outlook(sandbox)
    other = Request("GET", "/graph/v1.0/me/presence", {}, {}, b"")
    assert service.route(other) is None
