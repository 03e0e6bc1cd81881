"""The Outlook calls the note needs, through Microsoft Graph (Mail.ReadWrite; Mail.Send to send).

- Create the draft: `POST /me/messages` with a JSON message; Graph saves it in Drafts and
  answers 201 with the message (https://learn.microsoft.com/en-us/graph/api/user-post-messages).
  Mail.ReadWrite.
- Send it: `POST /me/messages/{id}/send`, no body; 202 Accepted, nothing in the answer; the
  message is saved in Sent Items (https://learn.microsoft.com/en-us/graph/api/message-send).
  Mail.Send. A message id "may change if a message is moved or altered"
  (https://learn.microsoft.com/en-us/graph/api/resources/message): the sent copy has a new id, and
  the draft's id is gone (404).
- Find a draft again after a lost answer: each draft carries one single-value extended property,
  a private MAPI named property of our own GUID whose value is the random token the delivery
  saved before the create. `GET /me/mailFolders/drafts/messages` (and `.../sentitems/...`) with
  `$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{token}')`
  finds it (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get;
  well-known folder names: https://learn.microsoft.com/en-us/graph/api/resources/mailfolder).
  Unlike Gmail's compose scope, Mail.ReadWrite can also read Sent Items, so a send whose answer
  was lost is confirmed by the sent copy itself.

Nothing the recipient receives names aligner: the property is a MAPI property, not an Internet
header (it is not in the PS_INTERNET_HEADERS set, whose named properties are header fields, e.g.
https://learn.microsoft.com/en-us/office/client-developer/outlook/mapi/pidnamecrossreference-canonical-property),
its name and GUID name nothing, and no custom internetMessageHeaders or categories are set.

202 Accepted means accepted for processing, not done (RFC 9110 §15.3.3,
https://datatracker.ietf.org/doc/html/rfc9110#section-15.3.3): after a send whose answer was lost,
a draft still in Drafts may still be on its way, so for SETTLE seconds it is not sent again (see
`delivery`).

Creates and sends go out at most once (`resend=False`: not even repeated after a 429 or 503);
reads are retried within the run's wait budget. Every call of a run shares one connection, closed
by `close` when the run ends (the note surface's `close`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aligner.surfaces.note.message import NoteContent, parse_address
from aligner.surfaces.note.refs import DraftRef, SentRef
from aligner.vendors.microsoft.errors import GraphAuthError, GraphNotFound
from aligner.vendors.microsoft.scopes import MAIL_READ_WRITE, MAIL_SEND

if TYPE_CHECKING:
    from aligner.core.doctor import Check
    from aligner.vendors.microsoft.graph import Answer, Graph
    from aligner.vendors.microsoft.settings import MicrosoftSettings

SURFACE = "note"
# The private mark: a string named property in a property set of our own (a random GUID).
MARK_PROPERTY = "String {35b4475e-f073-4584-a546-24d14f0ac1b2} Name ClientRef"
SELECT = "id,changeKey,conversationId,isDraft"
# Graph's send answers 202 Accepted: the message is sent after the answer, and the draft stays in
# Drafts until then. After a lost answer, a draft still there this soon may be on its way. Graph
# documents no bound: five minutes is aligner's margin (sends are usually done in seconds).
SETTLE = 300.0
REAUTH = "run `aligner auth microsoft` again (`aligner doctor` lists what the sign-in has)"


class OutlookMailbox:
    vendor = "Outlook"
    settle = SETTLE

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    @classmethod
    def connect(cls, settings: MicrosoftSettings, scopes: Sequence[str]) -> OutlookMailbox:
        from aligner.vendors.microsoft.token import graph_for

        return cls(graph_for(settings, scopes, SURFACE))

    def close(self) -> None:
        self.graph.close()

    def address(self) -> str:
        """Not asked: the sender's address needs User.Read, which the note does not request;
        Outlook fills in the sender itself."""
        return ""

    def mark(self, token: str, sender: str | None) -> str:
        return token

    def create(self, note: NoteContent, mark: str) -> DraftRef:
        answer = _named(
            lambda: self.graph.post("me/messages", message_json(note, mark), resend=False),
            "save the note as a draft",
            MAIL_READ_WRITE,
        )
        return _draft_ref(answer.json())

    def draft(self, draft_id: str) -> DraftRef | None:
        try:
            answer = self.graph.get(f"me/messages/{quote(draft_id, safe='')}", {"$select": SELECT})
        except GraphNotFound:
            return None
        found = answer.json()
        return _draft_ref(found) if found.get("isDraft", True) else None

    def find(self, mark: str) -> DraftRef | None:
        found = self._marked("drafts", mark)
        return _draft_ref(found) if found is not None else None

    def find_legacy(self, token: str, query: str) -> DraftRef | None:
        return None  # no older version made Outlook drafts

    def sent(self, mark: str) -> SentRef | None:
        found = self._marked("sentitems", mark)
        if found is None:
            return None
        return SentRef(str(found.get("id", "")), str(found.get("conversationId", "")))

    def send(self, draft_id: str) -> SentRef:
        _named(
            lambda: self.graph.post(
                f"me/messages/{quote(draft_id, safe='')}/send",
                None,
                resend=False,
            ),
            "send the note",
            MAIL_SEND,
        )
        return SentRef("", "")  # 202 Accepted says nothing of the sent copy

    def delete(self, draft_id: str) -> bool:
        try:
            self.graph.delete(f"me/messages/{quote(draft_id, safe='')}")
        except GraphNotFound:
            return False
        return True

    def _marked(self, folder: str, mark: str) -> dict[str, Any] | None:
        """The first message in the well-known `folder` carrying the mark."""
        escaped = mark.replace("'", "''")
        query = {
            "$filter": (
                f"singleValueExtendedProperties/Any(ep: ep/id eq '{MARK_PROPERTY}' "
                f"and ep/value eq '{escaped}')"
            ),
            "$select": SELECT,
            "$top": "10",
        }
        answer = self.graph.get(f"me/mailFolders/{folder}/messages", query)
        for item in answer.json().get("value") or []:
            if isinstance(item, dict) and item.get("id"):
                return item
        return None


def message_json(note: NoteContent, mark: str) -> dict[str, Any]:
    """The note as Graph's message JSON: one body (HTML with the signature, else text)."""
    body = (
        {"contentType": "HTML", "content": note.html}
        if note.html is not None
        else {"contentType": "Text", "content": note.text}
    )
    return {
        "subject": note.subject,
        "body": body,
        "toRecipients": [_recipient(a) for a in note.to],
        "ccRecipients": [_recipient(a) for a in note.cc],
        "singleValueExtendedProperties": [{"id": MARK_PROPERTY, "value": mark}],
    }


def _recipient(text: str) -> dict[str, Any]:
    address = parse_address(text)
    email: dict[str, str] = {"address": address.addr_spec}
    if address.display_name:
        email["name"] = address.display_name
    return {"emailAddress": email}


def _draft_ref(message: Mapping[str, Any]) -> DraftRef:
    """Outlook keeps a draft's id when it is edited and changes its changeKey: the changeKey
    plays the part Gmail's message id plays (an edit by hand is told by it)."""
    return DraftRef(
        str(message["id"]),
        str(message.get("changeKey", "")),
        str(message.get("conversationId", "")),
    )


def _named(call: Callable[[], Answer], what: str, permission: str) -> Answer:
    """A 403 says which permission is missing (Graph's own answer says only "access denied")."""
    try:
        return call()
    except GraphAuthError as exc:
        if exc.http_status != 403:
            raise
        named = GraphAuthError(
            f"Outlook refused to {what} (403 {exc.code or 'Forbidden'}): the Microsoft sign-in "
            f"lacks the {permission} permission; {REAUTH}",
            SURFACE,
        )
        named.http_status, named.code = exc.http_status, exc.code
        raise named from None


def doctor(settings: MicrosoftSettings, scopes: Sequence[str]) -> Check:
    """`note.works`: one cheap read of Drafts (Mail.ReadWrite covers it). Mail.Send cannot be
    tried without sending; the Microsoft account's own checks list the granted permissions."""
    from aligner.core.doctor import fail, ok
    from aligner.errors import SurfaceError

    name = f"{SURFACE}.works"
    try:
        mailbox = OutlookMailbox.connect(settings, scopes)
        try:
            mailbox.graph.get("me/mailFolders/drafts/messages", {"$top": "1", "$select": "id"})
        finally:
            mailbox.close()
    except SurfaceError as exc:
        return fail(name, str(exc))
    return ok(name, "Outlook mailbox reachable (its Drafts can be read)")
