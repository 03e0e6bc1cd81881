"""The Gmail calls the note needs, with the gmail.compose scope only.

What gmail.compose can read: the profile, and drafts (drafts.list with `q`, drafts.get). It can
NOT list or get messages, so a note that has left Drafts (sent) is invisible to aligner: Gmail's
reference lists https://mail.google.com/, gmail.modify, gmail.readonly and gmail.metadata for
users.messages.list, not gmail.compose
(https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/list).

Reads (profile, drafts.get/list) are retried when that is safe; drafts.create and drafts.send are
never retried and go through a transport that sends them at most once (see google_transport), so a
lost answer surfaces as a TransientError and the caller asks Gmail what happened. Every call of a
run goes over the same kept-alive connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aligner.surfaces.note.message import (
    LEGACY_HEADER,
    NoteContent,
    build_message,
    encode_raw,
    message_id,
)
from aligner.surfaces.note.refs import DraftRef, SentRef
from aligner.vendors.google.client import authorized_http, build_service, execute
from aligner.vendors.google.errors import GoogleStatus
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from aligner.vendors.google.settings import GoogleSettings

SURFACE = "note"
SEARCH_PAGES = 5


class NoteMailbox:
    vendor = "Gmail"
    settle = 0.0  # drafts.send answers with the SENT message: it has been sent

    def __init__(self, service: Any, http: Any) -> None:
        self.drafts = service.users().drafts()
        self.users = service.users()
        self.http = http

    @classmethod
    def connect(cls, settings: GoogleSettings, scopes: Sequence[str]) -> NoteMailbox:
        http = authorized_http(settings, SURFACE, scopes)  # one connection for the whole run
        return cls(build_service(settings, "gmail", "v1", SURFACE, scopes, http=http), http)

    def _run(self, request: Any, *, retry: bool, expect: tuple[int, ...] = ()) -> Any:
        request.http = self.http
        return execute(request, SURFACE, GMAIL_COMPOSE, retry=retry, expect=expect)

    def close(self) -> None:
        self.http.close()

    def address(self) -> str:
        profile = self._run(self.users.getProfile(userId="me"), retry=True)
        return str(profile.get("emailAddress", ""))

    def draft(self, draft_id: str) -> DraftRef | None:
        """The draft as it is now, or None when it is gone (sent or deleted)."""
        try:
            found = self._run(
                self.drafts.get(userId="me", id=draft_id, format="minimal"),
                retry=True,
                expect=(404,),
            )
        except GoogleStatus:
            return None
        return _draft_ref(found)

    def mark(self, token: str, sender: str | None) -> str:
        """The draft's Message-ID, `<token@sender-domain>` (see message.message_id)."""
        return message_id(token, sender or self.address())

    def create(self, note: NoteContent, mark: str) -> DraftRef:
        if not note.sender:
            note = replace(note, sender=self.address())
        raw = encode_raw(build_message(note, mark))
        request = self.drafts.create(userId="me", body={"message": {"raw": raw}})
        return _draft_ref(self._run(request, retry=False))

    def sent(self, mark: str) -> SentRef | None:
        """Never known: gmail.compose cannot list or get sent messages (module docstring)."""
        return None

    def send(self, draft_id: str) -> SentRef:
        sent = self._run(self.drafts.send(userId="me", body={"id": draft_id}), retry=False)
        return SentRef(str(sent.get("id", "")), str(sent.get("threadId", "")))

    def delete(self, draft_id: str) -> bool:
        """Delete a draft; False when it was already gone."""
        try:
            self._run(self.drafts.delete(userId="me", id=draft_id), retry=True, expect=(404,))
        except GoogleStatus:
            return False
        return True

    def find(self, message_id: str) -> DraftRef | None:
        """The draft whose Message-ID header is `message_id`, if it is in Drafts.

        drafts.list takes `q` "in the same format as the Gmail search box", whose example is
        `rfc822msgid:<somemsgid@example.com>`, and gmail.compose may call it
        (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.drafts/list).
        Each hit is confirmed on the draft's own header (drafts.get format=metadata)."""
        return self._search(f"rfc822msgid:{message_id}", "Message-ID", message_id)

    def find_legacy(self, token: str, query: str) -> DraftRef | None:
        """A draft made by an older aligner, which marked it with a token header (read only)."""
        return self._search(query, LEGACY_HEADER, token)

    def _search(self, query: str, header: str, value: str) -> DraftRef | None:
        page_token = None
        for _ in range(SEARCH_PAGES):
            listed = self._run(
                self.drafts.list(userId="me", q=query, maxResults=100, pageToken=page_token),
                retry=True,
            )
            for item in listed.get("drafts", []):
                if self._header_of(str(item["id"]), header) == value:
                    return DraftRef(
                        str(item["id"]),
                        str(item["message"]["id"]),
                        str(item["message"].get("threadId", "")),
                    )
            page_token = listed.get("nextPageToken")
            if not page_token:
                return None
        return None

    def _header_of(self, draft_id: str, name: str) -> str | None:
        try:
            found = self._run(
                self.drafts.get(userId="me", id=draft_id, format="metadata"),
                retry=True,
                expect=(404,),
            )
        except GoogleStatus:
            return None
        headers = found.get("message", {}).get("payload", {}).get("headers", [])
        for header in headers:
            if str(header.get("name", "")).lower() == name.lower():
                return str(header.get("value", "")).strip()
        return None


def _draft_ref(draft: Any) -> DraftRef:
    message = draft.get("message", {})
    return DraftRef(str(draft["id"]), str(message.get("id", "")), str(message.get("threadId", "")))
