"""Fake Gmail v1 mail: users.getProfile, users.drafts create/list/get/update/delete/send and
users.messages send/list/get, over a mailbox of parsed raw messages.

Sources, per behaviour:
- scopes: each method's "Authorization scopes" (see SCOPES): gmail.compose may create, list,
  get, update, delete and send drafts, send messages and read the profile, but NOT list or get
  messages (that needs gmail.readonly, gmail.modify, gmail.metadata or mail.google.com):
  https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/create
  (and /get, /list, /update, /delete, /send)
  https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list (and /get, /send)
  https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile
- a metadata-only token may not search with `q` ("This parameter cannot be used when
  accessing the api using the gmail.metadata scope":
  https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list)
  nor fetch full/raw messages (reported, not documented: the error "Metadata scope doesn't
  allow format FULL", https://qiita.com/n0bisuke/items/f8eb4b3abe5fae7c9a4a);
- a sent draft disappears from drafts and appears as a SENT message with a new Gmail id ("When
  the draft is sent, the draft is automatically deleted and a new message with an updated ID is
  created with the SENT system label", https://developers.google.com/workspace/gmail/api/guides/drafts);
  the draft id then answers 404. The sent copy gets a new Message-ID header here: whether Gmail
  keeps a client's Message-ID on send is not documented (its SMTP side replaces ids it finds
  invalid and keeps the old one as X-Google-Original-Message-ID), so the fake takes the case a
  client must survive, and aligner relies on its Message-ID only while the message is a draft;
- a draft keeps the raw message it was created with, headers included, Message-ID too ("You can
  retrieve the current MIME message contained in the draft by calling drafts.get with the
  parameter format=raw", same guide); Gmail adds a Message-ID when the client gave none. Editing
  it (drafts.update, or by hand in the web UI) gives it a new message id under the same draft id;
  the web UI keeps only the addressing headers and gives the draft a Message-ID of its own;
- drafts.list takes `q` in the Gmail search box format, e.g. `rfc822msgid:<id@example.com>`, and
  gmail.compose may call drafts.list and drafts.get
  (https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.drafts/list);
- list results without matches have no `drafts` / `messages` key, only `resultSizeEstimate: 0`
  (observed, not documented: JSON leaves empty lists out);
- `q` supports the common search operators (see query.py).

Operations are named "gmail.getProfile", "gmail.drafts.<method>", "gmail.messages.<method>"
for the request log and faults. Paths under /gmail/v1/users/ that are not these are left to the
other Gmail services (return None from `route`).
"""

from __future__ import annotations

import base64
import email
import itertools
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

from aligner.sandbox.google.common import GoogleAccounts, google_error
from aligner.sandbox.google.gmail.messages import (
    TEXT_PLAIN,
    UI_KEEPS,
    StoredMessage,
    gmail_message_id,
    has_recipient,
    header_lines,
    header_name,
    minimal,
    raw_of,
    resource,
    set_header,
    with_message_id,
)
from aligner.sandbox.google.gmail.query import QueryError, matches
from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.server import Clock

# Each method's "Authorization scopes", e.g.
# https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/create
_S = "https://www.googleapis.com/auth/gmail."
FULL = "https://mail.google.com/"
COMPOSE = {FULL, _S + "compose", _S + "modify", _S + "addons.current.action.compose"}
DRAFT_READ = {FULL, _S + "compose", _S + "modify", _S + "readonly"}
MESSAGE_READ = {FULL, _S + "readonly", _S + "modify", _S + "metadata"}
METADATA = _S + "metadata"
SCOPES: dict[str, set[str]] = {
    "gmail.getProfile": {FULL, _S + "compose", _S + "metadata", _S + "modify", _S + "readonly"},
    "gmail.drafts.create": COMPOSE,
    "gmail.drafts.update": COMPOSE,
    "gmail.drafts.delete": COMPOSE,
    "gmail.drafts.send": COMPOSE,
    "gmail.drafts.get": DRAFT_READ,
    "gmail.drafts.list": DRAFT_READ,
    "gmail.messages.send": COMPOSE | {_S + "send"},
    "gmail.messages.list": MESSAGE_READ,
    "gmail.messages.get": MESSAGE_READ | {_S + "addons.current.message.readonly"},
}
# "HTTP request" of each method, e.g. POST .../gmail/v1/users/{userId}/drafts/send
# (https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/send)
_ROUTES: tuple[tuple[str, re.Pattern[str], str, bool], ...] = tuple(
    (method, re.compile(f"^{pattern}/?$"), operation, writes)
    for method, pattern, operation, writes in (
        ("GET", "profile", "gmail.getProfile", False),
        ("POST", "drafts/send", "gmail.drafts.send", True),
        ("GET", "drafts", "gmail.drafts.list", False),
        ("POST", "drafts", "gmail.drafts.create", True),
        ("GET", "drafts/(?P<id>[^/]+)", "gmail.drafts.get", False),
        ("PUT", "drafts/(?P<id>[^/]+)", "gmail.drafts.update", True),
        ("DELETE", "drafts/(?P<id>[^/]+)", "gmail.drafts.delete", True),
        ("POST", "messages/send", "gmail.messages.send", True),
        ("GET", "messages", "gmail.messages.list", False),
        ("GET", "messages/(?P<id>[^/]+)", "gmail.messages.get", False),
    )
)
NOT_FOUND = "Requested entity was not found."


@dataclass
class GmailMailService(Service):
    accounts: GoogleAccounts = field(default_factory=GoogleAccounts)
    clock: Clock = field(default_factory=Clock)
    address: str = "alex@example.com"
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    drafts: dict[str, str] = field(default_factory=dict)  # draft id -> message id
    history_id: int = 1000
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    name = "gmail"
    prefix = "/gmail/v1/users/"

    # -- the mailbox ---------------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"{0x18C0000000000000 + next(self._ids):016x}"

    def _store(self, raw: bytes, labels: set[str], thread_id: str | None = None) -> StoredMessage:
        message_id = self._new_id()
        known_thread = thread_id if thread_id and self._thread_exists(thread_id) else None
        stored = StoredMessage(
            message_id,
            known_thread or message_id,
            labels,
            raw,
            int(self.clock.now().timestamp() * 1000),
        )
        self.messages[message_id] = stored
        self.history_id += 1
        return stored

    def _thread_exists(self, thread_id: str) -> bool:
        return any(m.thread_id == thread_id for m in self.messages.values())

    def add_draft(self, message: EmailMessage) -> str:  # seeding, not an API method
        """Seed or simulate a draft the person wrote; returns the draft id."""
        stored = self._store(with_message_id(message.as_bytes()), {"DRAFT"})
        draft_id = f"r-{4_000_000_000_000_000_000 + next(self._ids)}"
        self.drafts[draft_id] = stored.id
        return draft_id

    def delete_draft(self, draft_id: str) -> None:
        """The person discards a draft in the web UI."""
        self.messages.pop(self.drafts.pop(draft_id))
        self.history_id += 1

    def edit_draft(self, draft_id: str, text: str) -> str:
        """The person rewrites a draft in the web UI: new message id, same draft id, and the
        web UI keeps only the addressing headers and gives the draft a new Message-ID."""
        old = self.messages.pop(self.drafts[draft_id])
        kept = [line for line in header_lines(old.raw) if header_name(line) in UI_KEEPS]
        body = base64.encodebytes(text.encode("utf-8"))
        raw = b"\r\n".join([*kept, *TEXT_PLAIN]) + b"\r\n\r\n" + body
        stored = self._store(with_message_id(raw), {"DRAFT"}, old.thread_id)
        self.drafts[draft_id] = stored.id
        return stored.id

    def send_draft(self, draft_id: str) -> StoredMessage:
        """Send a draft (the API's drafts.send, or the person clicking Send).

        The draft goes and a SENT message with a new id comes ("When the draft is sent ..."):
        https://developers.google.com/gmail/api/guides/drafts
        """
        old = self.messages.pop(self.drafts.pop(draft_id))
        return self._store(self._as_sent(old.raw), {"SENT"}, old.thread_id)

    def _as_sent(self, raw: bytes) -> bytes:
        """Gmail gives a sent message a new Message-ID, and a Date and From when missing.

        Reported, not documented (no public issue thread found): Gmail replacing a client's
        Message-ID on send, and filling in Date and From.
        """
        parsed = email.message_from_bytes(raw, policy=policy.default)
        raw = set_header(raw, "Message-ID", gmail_message_id())
        if "Date" not in parsed:
            raw = set_header(raw, "Date", format_datetime(self.clock.now()))
        if "From" not in parsed:
            raw = set_header(raw, "From", self.address)
        return raw

    def draft_messages(self) -> list[EmailMessage]:
        return [self.messages[m].parsed for m in self.drafts.values()]

    def raw_messages(self) -> list[bytes]:
        """Every stored message exactly as kept (drafts and sent), for byte-level checks."""
        return [m.raw for m in self.messages.values()]

    def sent_messages(self) -> list[EmailMessage]:
        return [m.parsed for m in self.messages.values() if "SENT" in m.labels]

    def snapshot(self) -> Any:
        def brief(m: StoredMessage) -> dict[str, Any]:
            parsed = m.parsed
            return {
                "id": m.id,
                "labels": sorted(m.labels),
                "subject": str(parsed.get("Subject", "")),
                "to": str(parsed.get("To", "")),
            }

        return {
            "address": self.address,
            "drafts": {d: brief(self.messages[m]) for d, m in self.drafts.items()},
            "sent": [brief(m) for m in self.messages.values() if "SENT" in m.labels],
        }

    # -- HTTP ----------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        rest = request.path[len(self.prefix) :].partition("/")[2]
        for method, pattern, operation, writes in _ROUTES:
            if method == request.method and pattern.match(rest):
                return Routed(self.name, operation, writes)
        return None

    def handle(self, request: Request, routed: Routed) -> Response:
        """Scope check (SCOPES), then `userId`: "me" or the account's own address ("The special
        value me can be used to indicate the authenticated user", every method's path
        parameters); another user is 403 "Delegation denied for ..." (reported, not
        documented). A query Gmail cannot read is 400 invalidArgument (see gmail.query)."""
        refused = self.accounts.check(request, SCOPES[routed.operation])
        if refused is not None:
            return refused
        user = unquote(request.path[len(self.prefix) :].partition("/")[0])
        if user not in ("me", self.address):
            return google_error(403, f"Delegation denied for {self.address}", "forbidden")
        rest = request.path[len(self.prefix) :].partition("/")[2]
        match = next(p.match(rest) for m, p, op, _ in _ROUTES if op == routed.operation)
        assert match is not None
        handler = getattr(self, "_" + routed.operation.split(".", 1)[1].replace(".", "_"))
        try:
            response: Response = handler(request, match.groupdict().get("id"))
        except QueryError as exc:
            return google_error(400, str(exc), "invalidArgument")
        return response

    def _metadata_only(self, request: Request) -> bool:
        """The token's only message-reading scope is gmail.metadata (see the module docstring
        for what that forbids)."""
        scopes = self.accounts.tokens.get(request.bearer() or "", set())
        return bool(scopes) and not (scopes & (MESSAGE_READ - {METADATA}))

    # -- profile and drafts --------------------------------------------------------------------

    def _getProfile(self, request: Request, _: str | None) -> Response:
        """users.getProfile: emailAddress, messagesTotal, threadsTotal, historyId.

        https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile
        """
        return Response(
            200,
            {
                "emailAddress": self.address,
                "messagesTotal": len(self.messages),
                "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                "historyId": str(self.history_id),
            },
        )

    def _drafts_create(self, request: Request, _: str | None) -> Response:
        """drafts.create ("Creates a new draft with the DRAFT label").

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/create
        The body's `message.raw` is the base64url RFC 2822 message
        (https://developers.google.com/gmail/api/guides/drafts). The 400 for a missing `raw` and its
        message are reported, not documented.
        """
        raw, thread_id = raw_of(request.json().get("message"))
        if raw is None:
            return google_error(400, "Invalid draft: message.raw is required", "invalidArgument")
        stored = self._store(with_message_id(raw), {"DRAFT"}, thread_id)
        draft_id = f"r-{4_000_000_000_000_000_000 + next(self._ids)}"
        self.drafts[draft_id] = stored.id
        return Response(200, {"id": draft_id, "message": minimal(stored)})

    def _drafts_update(self, request: Request, draft_id: str | None) -> Response:
        """drafts.update ("Replaces a draft's content"): same draft id, new message.

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/update
        "the message contained in the draft is destroyed and replaced by the new MIME message":
        https://developers.google.com/gmail/api/guides/drafts. An unknown draft is 404.
        """
        if draft_id not in self.drafts:
            return google_error(404, NOT_FOUND)
        raw, thread_id = raw_of(request.json().get("message"))
        if raw is None:
            return google_error(400, "Invalid draft: message.raw is required", "invalidArgument")
        old = self.messages.pop(self.drafts[draft_id])
        stored = self._store(with_message_id(raw), {"DRAFT"}, thread_id or old.thread_id)
        self.drafts[draft_id] = stored.id
        return Response(200, {"id": draft_id, "message": minimal(stored)})

    def _drafts_get(self, request: Request, draft_id: str | None) -> Response:
        """drafts.get, `format` full (default), metadata, minimal or raw.

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/get
        A draft that was sent or deleted is 404: it no longer exists ("the draft is automatically
        deleted": https://developers.google.com/gmail/api/guides/drafts).
        """
        if draft_id not in self.drafts:
            return google_error(404, NOT_FOUND)
        stored = self.messages[self.drafts[draft_id]]
        shape = (request.arg("format") or "full").lower()
        return Response(200, {"id": draft_id, "message": resource(stored, shape)})

    def _drafts_list(self, request: Request, _: str | None) -> Response:
        """drafts.list, with `q` ("Supports the same query format as the Gmail search box").

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/list
        """
        query = request.arg("q") or ""
        found = [
            {"id": d, "message": {"id": m, "threadId": self.messages[m].thread_id}}
            for d, m in reversed(self.drafts.items())
            if matches(query, self.messages[m].indexed())
        ]
        return _page(request, found, "drafts")

    def _drafts_delete(self, request: Request, draft_id: str | None) -> Response:
        """drafts.delete ("Immediately and permanently deletes the specified draft").

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/delete
        204 with an empty body; an unknown draft is 404.
        """
        if draft_id not in self.drafts:
            return google_error(404, NOT_FOUND)
        self.delete_draft(draft_id)
        return Response(204, None)

    def _drafts_send(self, request: Request, _: str | None) -> Response:
        """drafts.send ("Sends the specified, existing draft to the recipients in the To, Cc,
        and Bcc headers"); the reply is the SENT message (the drafts guide).

        https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/send
        https://developers.google.com/gmail/api/guides/drafts
        Reported, not documented: a `message.raw` in the body first replaces the draft's content; no
        recipient is 400 "Recipient address required".
        """
        body = request.json()
        draft_id = body.get("id")
        if not draft_id:
            return google_error(400, "Invalid draft: id is required", "invalidArgument")
        if draft_id not in self.drafts:
            return google_error(404, NOT_FOUND)
        raw, _thread = raw_of(body.get("message"))
        if raw is not None:
            self._drafts_update(request, draft_id)
        if not has_recipient(self.messages[self.drafts[draft_id]].parsed):
            return google_error(400, "Recipient address required", "invalidArgument")
        sent = self.send_draft(draft_id)
        return Response(200, minimal(sent))

    # -- messages ------------------------------------------------------------------------------

    def _messages_send(self, request: Request, _: str | None) -> Response:
        """messages.send ("Sends the specified message to the recipients in the To, Cc, and Bcc
        headers"). Its error messages are reported, not documented.

        https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send
        """
        raw, thread_id = raw_of(request.json())
        if raw is None:
            message = "'raw' RFC822 payload message string is required"
            return google_error(400, message, "invalidArgument")
        if not has_recipient(email.message_from_bytes(raw, policy=policy.default)):
            return google_error(400, "Recipient address required", "invalidArgument")
        stored = self._store(self._as_sent(raw), {"SENT"}, thread_id)
        return Response(200, minimal(stored))

    def _messages_list(self, request: Request, _: str | None) -> Response:
        """messages.list: `q`, `labelIds` (all must match), `includeSpamTrash`, paging.

        https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
        Each item has only `id` and `threadId`. `q` with a metadata-only token: module docstring.
        """
        query = request.arg("q") or ""
        if query and self._metadata_only(request):
            return google_error(403, "Metadata scope does not support 'q' parameter", "forbidden")
        wanted = {label.upper() for label in request.query.get("labelIds", [])}
        include_junk = (request.arg("includeSpamTrash") or "false").lower() == "true"
        found = [
            {"id": m.id, "threadId": m.thread_id}
            for m in reversed(self.messages.values())
            if wanted <= m.labels
            and (include_junk or not m.labels & {"SPAM", "TRASH"})
            and matches(query, m.indexed())
        ]
        return _page(request, found, "messages")

    def _messages_get(self, request: Request, message_id: str | None) -> Response:
        """messages.get, `format` full (default), metadata, minimal or raw.

        https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
        Full and raw are refused to a metadata-only token (module docstring).
        """
        stored = self.messages.get(message_id or "")
        if stored is None:
            return google_error(404, NOT_FOUND)
        shape = (request.arg("format") or "full").lower()
        if shape in ("full", "raw") and self._metadata_only(request):
            return google_error(
                403, f"Metadata scope doesn't allow format {shape.upper()}", "forbidden"
            )
        return Response(200, resource(stored, shape))


def _page(request: Request, found: list[dict[str, Any]], key: str) -> Response:
    """`maxResults`, `pageToken`/`nextPageToken` and `resultSizeEstimate` of a list.

    "This field defaults to 100. The maximum allowed value for this field is 500."
    https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
    The page token is the sandbox's own (an offset); Gmail's is opaque.
    """
    size = min(max(int(request.arg("maxResults") or 100), 1), 500)
    start = int(request.arg("pageToken") or 0)
    body: dict[str, Any] = {"resultSizeEstimate": len(found)}
    if found[start : start + size]:
        body[key] = found[start : start + size]
    if start + size < len(found):
        body["nextPageToken"] = str(start + size)
    return Response(200, body)


def seeded_mailbox(accounts: GoogleAccounts, clock: Clock, address: str) -> GmailMailService:
    """A mailbox with one unrelated draft of the person's own (aligner must leave it alone)."""
    mailbox = GmailMailService(accounts=accounts, clock=clock, address=address)
    own = EmailMessage()
    own["From"] = address
    own["To"] = "friend@example.org"
    own["Subject"] = "Saturday?"
    own.set_content("Still on for the hike on Saturday?\n")
    mailbox.add_draft(own)
    return mailbox
