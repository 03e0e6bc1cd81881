"""The sandbox's Gmail mailbox through the real google-api-python-client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from pydantic import SecretStr

from aligner.core.rehearsal import sandbox_settings
from aligner.sandbox.google.gmail.query import Indexed, matches
from aligner.sandbox.server import Sandbox
from aligner.surfaces.note.message import NoteContent, build_message, encode_raw
from aligner.vendors.google.client import build_service
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from aligner.vendors.google.settings import GoogleSettings
from tests.surfaces.note.note_helpers import mailbox

READONLY = "https://www.googleapis.com/auth/gmail.readonly"
METADATA = "https://www.googleapis.com/auth/gmail.metadata"


@pytest.fixture
def gmail(sandbox: Sandbox, tmp_path: Path) -> Iterator[Any]:
    with _client(sandbox, tmp_path, None) as users:
        yield users


@contextmanager
def _client(sandbox: Sandbox, tmp_path: Path, token: str | None) -> Iterator[Any]:
    settings = sandbox_settings(sandbox.url, tmp_path / "state").part(GoogleSettings)
    if token:
        settings = settings.model_copy(update={"google_access_token": SecretStr(token)})
    service = build_service(settings, "gmail", "v1", "note")
    try:
        yield service.users()
    finally:
        service.close()


def _with_scopes(sandbox: Sandbox, tmp_path: Path, *scopes: str) -> AbstractContextManager[Any]:
    token = "ya29.test-" + "-".join(s.rsplit(".", 1)[-1] for s in scopes)
    sandbox.service("oauth").accounts.grant(token, *scopes)
    return _client(sandbox, tmp_path, token)


def raw(subject: str = "Tomorrow", to: str = "sam@example.com", text: str = "Hi\n") -> str:
    return encode_raw(build_message(NoteContent((to,), (), subject, text), "<token-1@example.com>"))


def status_of(call: Any) -> int:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return int(caught.value.resp.status)


def test_profile_and_a_draft_round_trip(gmail: Any) -> None:
    assert gmail.getProfile(userId="me").execute()["emailAddress"] == "alex@example.com"
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    assert created["message"]["labelIds"] == ["DRAFT"]
    full = gmail.drafts().get(userId="me", id=created["id"], format="raw").execute()
    parsed = message_from_bytes(
        base64.urlsafe_b64decode(full["message"]["raw"]), policy=policy.default
    )
    assert parsed["Message-ID"] == "<token-1@example.com>"  # a draft keeps the client's id
    meta = gmail.drafts().get(userId="me", id=created["id"], format="metadata").execute()
    names = {h["name"] for h in meta["message"]["payload"]["headers"]}
    assert {"To", "Subject", "Message-ID"} <= names


def test_drafts_list_finds_a_draft_by_its_whole_message_id_only(gmail: Any) -> None:
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    for query in ("rfc822msgid:<token-1@example.com>", "rfc822msgid:token-1@example.com"):
        found = gmail.drafts().list(userId="me", q=query).execute()
        assert [d["id"] for d in found["drafts"]] == [created["id"]]
    partial = gmail.drafts().list(userId="me", q="rfc822msgid:token-1").execute()
    assert "drafts" not in partial and partial["resultSizeEstimate"] == 0


def test_a_sent_draft_leaves_drafts_with_a_new_id_and_message_id(
    gmail: Any, sandbox: Sandbox
) -> None:
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    draft_mid = mailbox(sandbox).draft_messages()[-1]["Message-ID"]
    result = gmail.drafts().send(userId="me", body={"id": created["id"]}).execute()
    assert result["labelIds"] == ["SENT"] and result["id"] != created["message"]["id"]
    assert status_of(gmail.drafts().get(userId="me", id=created["id"])) == 404
    assert status_of(gmail.drafts().send(userId="me", body={"id": created["id"]})) == 404
    [sent] = mailbox(sandbox).sent_messages()
    assert sent["Message-ID"] != draft_mid and sent["From"] == "alex@example.com"


def test_delete_is_404_the_second_time(gmail: Any) -> None:
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    assert gmail.drafts().delete(userId="me", id=created["id"]).execute() == ""
    assert status_of(gmail.drafts().delete(userId="me", id=created["id"])) == 404


def test_update_keeps_the_draft_id_and_changes_the_message_id(gmail: Any) -> None:
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    body = {"message": {"raw": raw(text="Edited\n")}}
    updated = gmail.drafts().update(userId="me", id=created["id"], body=body).execute()
    assert updated["id"] == created["id"]
    assert updated["message"]["id"] != created["message"]["id"]


def test_compose_may_draft_and_send_but_not_list_messages(sandbox: Sandbox, tmp_path: Path) -> None:
    with _with_scopes(sandbox, tmp_path, GMAIL_COMPOSE) as gmail:
        created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
        assert gmail.drafts().list(userId="me").execute()["resultSizeEstimate"] == 2
        gmail.drafts().send(userId="me", body={"id": created["id"]}).execute()
        assert gmail.messages().send(userId="me", body={"raw": raw()}).execute()["id"]
        assert status_of(gmail.messages().list(userId="me")) == 403
        assert status_of(gmail.messages().get(userId="me", id=created["message"]["id"])) == 403


def test_readonly_may_list_but_not_draft(sandbox: Sandbox, tmp_path: Path) -> None:
    with _with_scopes(sandbox, tmp_path, READONLY) as gmail:
        assert "messages" in gmail.messages().list(userId="me").execute()
        call = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}})
        assert status_of(call) == 403


def test_metadata_scope_may_not_search(sandbox: Sandbox, tmp_path: Path) -> None:
    with _with_scopes(sandbox, tmp_path, METADATA) as gmail:
        assert gmail.messages().list(userId="me").execute()["resultSizeEstimate"] == 1
        assert status_of(gmail.messages().list(userId="me", q="in:drafts")) == 403


def test_search_operators(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.clock.pinned = None
    with _with_scopes(sandbox, tmp_path, "https://mail.google.com/") as gmail:
        _search(gmail)


def _search(gmail: Any) -> None:
    drafts, messages = gmail.drafts(), gmail.messages()
    drafts.create(userId="me", body={"message": {"raw": raw("Latency story")}}).execute()
    messages.send(userId="me", body={"raw": raw("Sent one", to="pat@example.org")}).execute()

    def found(q: str) -> int:
        return int(messages.list(userId="me", q=q).execute()["resultSizeEstimate"])

    assert found("in:sent") == 1 and found("in:drafts") == 2
    assert found("to:pat@example.org") == 1 and found("to:sam@example.com in:drafts") == 1
    assert found("subject:latency") == 1 and found('subject:"latency story"') == 1
    assert found("hike") == 1 and found("-hike in:drafts") == 1
    assert found("after:2000/01/01") == 3 and found("before:2000/01/01") == 0
    empty = drafts.list(userId="me", q="nothing-matches-this").execute()
    assert empty == {"resultSizeEstimate": 0}


def test_list_pages(gmail: Any) -> None:
    for n in range(3):
        gmail.drafts().create(userId="me", body={"message": {"raw": raw(f"n{n}")}}).execute()
    first = gmail.drafts().list(userId="me", maxResults=2).execute()
    second = gmail.drafts().list(userId="me", maxResults=2, pageToken=first["nextPageToken"])
    rest = second.execute()
    assert len(first["drafts"]) == 2 and len(rest["drafts"]) == 2 and "nextPageToken" not in rest


def _indexed(**fields: Any) -> Indexed:
    base: dict[str, Any] = {
        "labels": frozenset({"SENT"}),
        "to": "Sam <sam@example.com>",
        "sender": "alex@example.com",
        "cc": "",
        "subject": "Tomorrow: latency",
        "message_id": "<abc@mail.gmail.com>",
        "text": "We cut p50 latency.",
        "internal_ms": 1_796_000_000_000,
    }
    return Indexed(**{**base, **fields})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("in:sent", True),
        ("in:drafts", False),
        ("-in:drafts p50", True),
        ("from:alex", True),
        ("subject:(tomorrow latency)", True),
        ('"cut p50"', True),
        ('"p50 cut"', False),
        ("rfc822msgid:abc@mail.gmail.com", True),
        ("after:1796000000 before:1796000001", True),
        ("after:2026/11/01", True),
        ("before:2026/11/01", False),
        ("unknown:word", False),
    ],
)
def test_query_terms(query: str, expected: bool) -> None:
    assert matches(query, _indexed()) is expected


def test_a_draft_edited_in_the_web_ui_gets_a_message_id_of_its_own(
    gmail: Any, sandbox: Sandbox
) -> None:
    created = gmail.drafts().create(userId="me", body={"message": {"raw": raw()}}).execute()
    mailbox(sandbox).edit_draft(created["id"], "My own words\n")
    edited = mailbox(sandbox).messages[mailbox(sandbox).drafts[created["id"]]].parsed
    assert edited["Message-ID"] and edited["Message-ID"] != "<token-1@example.com>"
    found = gmail.drafts().list(userId="me", q="rfc822msgid:<token-1@example.com>").execute()
    assert "drafts" not in found
