"""Gmail: the behaviours aligner's signature and note rely on (see conftest for targets).

Scopes: the live token has what `aligner auth google` asks for (gmail.settings.basic for the
signature, gmail.compose for the note). Reading sent mail needs more (gmail.readonly or
gmail.modify); the test that needs it says so and skips live without it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from aligner.surfaces.signature.html import (
    find_theme_block,
    html_to_text,
    marked,
    sanitize,
    without_theme_blocks,
)
from aligner.vendors.google.errors import GoogleStatus
from aligner.vendors.google.scopes import GMAIL_COMPOSE, GMAIL_SETTINGS_BASIC, SCOPE_PREFIX
from tests.contract.conftest import (
    CONTRACT_TEXT,
    RUN,
    GoogleTarget,
    drop_backup,
    save_backup,
)

Cleanup = Callable[[Callable[[], Any]], None]
MARK_KEY = "contract-check"  # the theme key of the block (neutral: no company, no tool name)
FRAGMENT = (
    '<p>Checking <b>the contract</b> of <a href="https://example.com/contract">this link</a>'
    " &amp; an entity &mdash; and a line<br>break</p>"
)
READ_SCOPE = SCOPE_PREFIX + "gmail.readonly"


def _primary(google: GoogleTarget) -> dict[str, Any]:
    listed = google.run(google.gmail.settings().sendAs().list(userId="me"), GMAIL_SETTINGS_BASIC)
    return next(e for e in listed["sendAs"] if e.get("isPrimary"))


def _set_signature(google: GoogleTarget, address: str, signature: str) -> dict[str, Any]:
    answer: dict[str, Any] = google.run(
        google.gmail.settings()
        .sendAs()
        .patch(userId="me", sendAsEmail=address, body={"signature": signature}),
        GMAIL_SETTINGS_BASIC,
    )
    return answer


def _stored_signature(google: GoogleTarget, address: str) -> str:
    entry = google.run(
        google.gmail.settings().sendAs().get(userId="me", sendAsEmail=address),
        GMAIL_SETTINGS_BASIC,
    )
    return str(entry.get("signature") or "")


def _text(signature: str) -> str:
    return " ".join(html_to_text(signature).split())


def test_send_as_signature_round_trip_keeps_what_aligner_relies_on(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """sendAs.patch stores a signature that Gmail rewrites ("Gmail will sanitize the HTML
    before saving it"). Whatever the bytes, aligner relies on: the patch answer is what a later
    get reads; its theme block is still found; the text a reader sees (the person's own part and
    aligner's) is unchanged; a link keeps its address; and writing the stored form back is a
    fixpoint (so a second run sees no change).

    https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/patch,
    https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs/update
    (the sanitising), https://developers.google.com/gmail/api/reference/rest/v1/users.settings.sendAs
    """
    entry = _primary(google)
    address, original = entry["sendAsEmail"], str(entry.get("signature") or "")
    if google.live:
        save_backup("signature", {"sendAsEmail": address, "signature": original})
    cleanup(lambda: (_set_signature(google, address, original), drop_backup("signature")))

    themed = original + marked(sanitize(FRAGMENT), MARK_KEY)
    answer = _set_signature(google, address, themed)
    stored = _stored_signature(google, address)

    assert answer.get("signature") == stored
    assert find_theme_block(stored) is not None
    assert _text(without_theme_blocks(stored)) == _text(original)
    assert _text(stored) == _text(themed)
    assert "https://example.com/contract" in stored
    _set_signature(google, address, stored)
    assert " ".join(_stored_signature(google, address).split()) == " ".join(stored.split())


def _message(google: GoogleTarget, token: str) -> tuple[str, str]:
    """A plain message to the account itself, subject and a custom header carrying `token`."""
    address = google.run(google.gmail.getProfile(userId="me"), GMAIL_COMPOSE)["emailAddress"]
    message = EmailMessage()
    message["To"] = address
    message["Subject"] = f"{CONTRACT_TEXT} {RUN} {token}"
    message["X-Contract-Check"] = token
    message.set_content("A message the contract tests send to this test account itself.\n")
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode("ascii")
    return raw, address


def _header(resource: dict[str, Any], name: str) -> str | None:
    for header in resource.get("payload", {}).get("headers", []):
        if str(header.get("name", "")).lower() == name.lower():
            return str(header.get("value", ""))
    return None


def _draft(google: GoogleTarget, cleanup: Cleanup, token: str) -> dict[str, Any]:
    raw, _ = _message(google, token)
    draft: dict[str, Any] = google.run(
        google.gmail.drafts().create(userId="me", body={"message": {"raw": raw}}),
        GMAIL_COMPOSE,
        retry=False,
    )

    def delete() -> None:
        try:
            google.run(
                google.gmail.drafts().delete(userId="me", id=draft["id"]),
                GMAIL_COMPOSE,
                expect=(404,),
            )
        except GoogleStatus:
            return  # sent, or already gone

    cleanup(delete)
    return draft


def _send(google: GoogleTarget, draft_id: str) -> dict[str, Any]:
    sent: dict[str, Any] = google.run(
        google.gmail.drafts().send(userId="me", body={"id": draft_id}),
        GMAIL_COMPOSE,
        retry=False,
    )
    return sent


def test_drafts_create_then_drafts_send(google: GoogleTarget, cleanup: Cleanup) -> None:
    """drafts.create answers a draft id and its message (id, threadId); drafts.get in format
    metadata shows the draft's own headers (aligner finds its draft by one); drafts.send answers
    the sent message: a new message id with the SENT label.

    https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/create,
    https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/get,
    https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/send,
    https://developers.google.com/gmail/api/guides/drafts ("When the draft is sent, the draft is
    automatically deleted and a new message with an updated ID is created with the SENT system
    label").
    """
    token = secrets.token_hex(6)
    draft = _draft(google, cleanup, token)
    assert draft["id"] and draft["message"]["id"] and draft["message"].get("threadId")
    seen = google.run(
        google.gmail.drafts().get(userId="me", id=draft["id"], format="metadata"), GMAIL_COMPOSE
    )
    assert _header(seen["message"], "X-Contract-Check") == token

    sent = _send(google, draft["id"])
    assert sent["id"] and sent["id"] != draft["message"]["id"]
    assert sent.get("threadId")
    assert "SENT" in sent.get("labelIds", [])


def test_drafts_get_answers_404_after_the_draft_was_sent(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """A sent draft is gone: drafts.get answers 404 (aligner reads that as "sent or deleted").

    https://developers.google.com/gmail/api/guides/drafts ("the draft is automatically
    deleted"), https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/get
    """
    draft = _draft(google, cleanup, secrets.token_hex(6))
    _send(google, draft["id"])
    gone = google.status(google.gmail.drafts().get(userId="me", id=draft["id"]), GMAIL_COMPOSE, 404)
    assert gone.status == 404


def test_a_sent_message_is_found_again_by_id_and_by_search(
    google: GoogleTarget, cleanup: Cleanup
) -> None:
    """The message drafts.send answered can be read again (messages.get, the SENT label, the
    subject and the custom header kept) and found by search (messages.list with `q`). That
    needs a read scope: gmail.compose may not list or get messages, only drafts.

    https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get and
    https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list ("Authorization
    scopes": no gmail.compose), https://developers.google.com/gmail/api/guides/filtering
    """
    token = secrets.token_hex(6)
    sent = _send(google, _draft(google, cleanup, token)["id"])
    read = google.gmail.messages().get(userId="me", id=sent["id"], format="metadata")
    if google.sandbox is not None:
        refused = google.status(read, GMAIL_COMPOSE, 403)  # gmail.compose alone may not read
        assert refused.status == 403
        google.sandbox.service("gmail").accounts.tokens[
            google.settings.google_access_token.get_secret_value()  # type: ignore[union-attr]
        ].add(READ_SCOPE)
    else:
        try:
            google.run(read, READ_SCOPE, expect=(403,))
        except GoogleStatus:
            pytest.skip(
                "finding sent mail needs gmail.readonly (or gmail.modify); the live token has "
                "only what aligner asks for (gmail.compose)"
            )
    found = google.run(
        google.gmail.messages().get(userId="me", id=sent["id"], format="metadata"), READ_SCOPE
    )
    assert "SENT" in found.get("labelIds", [])
    assert token in str(_header(found, "Subject"))
    assert _header(found, "X-Contract-Check") == token
    assert _header(found, "Message-ID")
    listed = google.run(
        google.gmail.messages().list(userId="me", q=f"in:sent subject:{token}"), READ_SCOPE
    )
    assert sent["id"] in {m["id"] for m in listed.get("messages") or []}
