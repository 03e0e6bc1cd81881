"""Fake Outlook mail through Microsoft Graph v1.0: create a draft, get, list (with the
single-value extended property filter), send, delete; what a recipient receives is logged.

Sources, per behaviour:
- create: `POST /me/messages` with a JSON message saves a draft in Drafts and answers
  `201 Created` with the message (id, @odata.etag, createdDateTime, changeKey, internetMessageId,
  parentFolderId, conversationId, isDraft true, body as stored: HTML wrapped in <html><body>);
  Mail.ReadWrite (https://learn.microsoft.com/en-us/graph/api/user-post-messages).
  "Internet message headers are not returned by default in a POST response" (same page);
- custom Internet message headers: "Add custom headers only when creating a message, and name
  them starting with "x-"", and they are returned only with $select
  (https://learn.microsoft.com/en-us/graph/api/resources/message). A header not starting with
  x- is refused with 400 InvalidInternetMessageHeader (reported, not documented);
- send: `POST /me/messages/{id}/send`, Mail.Send, answers `202 Accepted` with no body, and "saves
  the message in the Sent Items folder" (https://learn.microsoft.com/en-us/graph/api/message-send).
  A message id "may change if a message is moved or altered"
  (https://learn.microsoft.com/en-us/graph/api/resources/message): the sent copy has a new id and
  the draft's id answers 404 ErrorItemNotFound ("The specified object was not found in the
  store.", reported, not documented). Graph sends asynchronously; the fake moves the message at
  once (the case a client that asks later sees);
- get: `GET /me/messages/{id}` with `$select` (https://learn.microsoft.com/en-us/graph/api/message-get);
- list: `GET /me/messages` and `GET /me/mailFolders/{id}/messages` with the well-known folder
  names drafts, sentitems, deleteditems (https://learn.microsoft.com/en-us/graph/api/resources/mailfolder),
  `$top` (default 10), `$select`, `@odata.nextLink`
  (https://learn.microsoft.com/en-us/graph/api/user-list-messages), and `$filter` in the one
  form the docs give for string extended properties:
  `singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')`; "the
  filter is applied to all instances of the resource in the signed-in user's mailbox"; "the
  string name (Name) in the id ... is case-sensitive", the value is not
  (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get);
- extended properties set on create (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-post-singlevalueextendedproperties)
  stay on the message when it moves to Sent Items (reported, not documented); they are MAPI
  properties and are not sent to recipients as headers, except named properties in the
  PS_INTERNET_HEADERS property set {00020386-0000-0000-C000-000000000046}, which are header
  fields (e.g. PidNameCrossReference is the Xref header:
  https://learn.microsoft.com/en-us/office/client-developer/outlook/mapi/pidnamecrossreference-canonical-property,
  per [MS-OXCMAIL]);
- delete: `DELETE /me/messages/{id}` answers 204 No Content
  (https://learn.microsoft.com/en-us/graph/api/message-delete); the message goes to Deleted
  Items under a new id (reported, not documented; permanentDelete is another action:
  https://learn.microsoft.com/en-us/graph/api/message-permanentdelete);
- permissions and errors: the `GraphService` base (403 ErrorAccessDenied for Outlook).

Operations: "messages.create", "messages.get", "messages.list", "messages.send",
"messages.delete". `delivered` holds what each recipient got (headers and body), for tests.
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
from dataclasses import dataclass, field
from email.utils import format_datetime, formataddr
from html import unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.microsoft.common import GraphDirectory, GraphService, graph_json
from aligner.sandbox.server import Clock

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

MAIL_READ_BASIC, MAIL_READ, MAIL_READ_WRITE, MAIL_SEND = (
    "Mail.ReadBasic",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
)
SCOPES: dict[str, tuple[str, ...]] = {  # each method's "Permissions" table
    "messages.create": (MAIL_READ_WRITE,),
    "messages.delete": (MAIL_READ_WRITE,),
    "messages.get": (MAIL_READ_BASIC, MAIL_READ, MAIL_READ_WRITE),
    "messages.list": (MAIL_READ_BASIC, MAIL_READ, MAIL_READ_WRITE),
    "messages.send": (MAIL_SEND,),
}
FOLDERS = ("drafts", "sentitems", "deleteditems", "inbox")
INTERNET_HEADERS_SET = "{00020386-0000-0000-c000-000000000046}"
MTA = "namprd13.prod.outlook.com"  # the domain of Exchange Online's Message-IDs
NOT_FOUND = "The specified object was not found in the store."
_ROUTES: tuple[tuple[str, re.Pattern[str], str, bool], ...] = tuple(
    (method, re.compile(f"^me/{pattern}$"), operation, writes)
    for method, pattern, operation, writes in (
        ("POST", "messages", "messages.create", True),
        ("GET", "messages", "messages.list", False),
        ("GET", "mailFolders/(?P<folder>[^/]+)/messages", "messages.list", False),
        ("GET", "messages/(?P<message>[^/]+)", "messages.get", False),
        ("DELETE", "messages/(?P<message>[^/]+)", "messages.delete", True),
        ("POST", "messages/(?P<message>[^/]+)/send", "messages.send", True),
    )
)
_FILTER = re.compile(
    r"^\s*singleValueExtendedProperties/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)/id\s+eq\s+"
    r"'(?P<id>(?:[^']|'')*)'\s+and\s+(?P=var)/value\s+eq\s+'(?P<value>(?:[^']|'')*)'\s*\)\s*$",
    re.IGNORECASE,
)
_PROPERTY_ID = re.compile(
    r"^(?P<type>\w+)\s+(?P<set>\{[0-9a-fA-F-]{36}\})\s+(?P<kind>Name|Id)\s+(?P<name>\S.*)$"
)


@dataclass
class StoredMail:
    id: str
    folder: str
    fields: dict[str, Any]  # the message's Graph properties (subject, body, recipients, ...)
    properties: dict[str, str]  # singleValueExtendedProperties: normalised id -> value
    headers: list[dict[str, str]]  # custom internetMessageHeaders
    change: int = 1

    @property
    def is_draft(self) -> bool:
        return bool(self.fields["isDraft"])


@dataclass
class OutlookMailService(GraphService):
    directory: GraphDirectory = field(default_factory=GraphDirectory)
    clock: Clock = field(default_factory=Clock)
    messages: dict[str, StoredMail] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    # Graph sends after answering 202; with `send_later` the fake keeps a sent draft in Drafts
    # until `finish_sending()` (the window a client must not send it again in).
    send_later: bool = False
    in_flight: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    forbidden_code = "ErrorAccessDenied"

    # -- the mailbox (also what a person does in Outlook) ---------------------------------------

    def _new_id(self) -> str:
        raw = b"\x00\x00\x00" + next(self._ids).to_bytes(4, "big") + secrets.token_bytes(33)
        return "AAMkAGI2" + base64.urlsafe_b64encode(raw).decode("ascii")

    def _now(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def folder_id(self, name: str) -> str:
        return "AQMkAGI2" + base64.urlsafe_b64encode(name.encode().ljust(24, b"\x00")).decode()

    def add_draft(self, subject: str, to: str, text: str) -> str:
        """Seed or simulate a draft the person wrote in Outlook; returns its id."""
        return self._create(
            {
                "subject": subject,
                "body": {"contentType": "text", "content": text},
                "toRecipients": [{"emailAddress": {"address": to}}],
            },
            {},
            [],
        ).id

    def send_draft(self, message_id: str) -> StoredMail:
        """Send a draft (the API's send, or the person clicking Send in Outlook)."""
        draft = self.messages.pop(message_id)
        now = self._now()
        person = self.directory.person
        sender = {
            "emailAddress": {"name": person.display_name, "address": person.user_principal_name}
        }
        fields = {
            **draft.fields,
            "isDraft": False,
            "sentDateTime": now,
            "receivedDateTime": now,
            "lastModifiedDateTime": now,
            "from": sender,
            "sender": sender,
        }
        sent = StoredMail(self._new_id(), "sentitems", fields, draft.properties, draft.headers)
        self.messages[sent.id] = sent
        self.delivered.append(self._as_received(sent))
        return sent

    def finish_sending(self) -> None:
        """Carry out the sends accepted while `send_later` was on. A draft accepted twice goes
        out twice: the duplicate a client that sends again too early causes."""
        for message_id in self.in_flight:
            if message_id in self.messages:
                self.send_draft(message_id)
            elif self.delivered:
                self.delivered.append(dict(self.delivered[-1]))
        self.in_flight.clear()

    def delete_draft(self, message_id: str) -> str:
        """The person deletes a draft: it moves to Deleted Items under a new id."""
        return self._move(message_id, "deleteditems")

    def edit_draft(self, message_id: str, text: str) -> None:
        """The person rewrites a draft in Outlook: same id, new changeKey."""
        stored = self.messages[message_id]
        stored.fields["body"] = {"contentType": "text", "content": text}
        stored.fields["bodyPreview"] = _preview(stored.fields["body"])
        stored.fields["lastModifiedDateTime"] = self._now()
        stored.change += 1

    def drafts(self) -> list[StoredMail]:
        return [m for m in self.messages.values() if m.folder == "drafts"]

    def sent(self) -> list[StoredMail]:
        return [m for m in self.messages.values() if m.folder == "sentitems"]

    def _move(self, message_id: str, folder: str) -> str:
        stored = self.messages.pop(message_id)
        stored.id, stored.folder = self._new_id(), folder
        stored.fields["parentFolderId"] = self.folder_id(folder)
        stored.change += 1
        self.messages[stored.id] = stored
        return stored.id

    def _create(
        self, body: dict[str, Any], properties: dict[str, str], headers: list[dict[str, str]]
    ) -> StoredMail:
        now = self._now()
        message_id = self._new_id()
        host = "MWHPR1301MB" + secrets.token_hex(2).upper()
        fields: dict[str, Any] = {
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "categories": list(body.get("categories") or []),
            "receivedDateTime": now,
            "sentDateTime": now,
            "hasAttachments": False,
            "internetMessageId": f"<{host}{secrets.token_hex(8).upper()}@{host}.{MTA}>",
            "subject": str(body.get("subject") or ""),
            "importance": str(body.get("importance") or "normal").lower(),
            "parentFolderId": self.folder_id("drafts"),
            "conversationId": "AAQkAGI2"
            + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode(),
            "conversationIndex": base64.b64encode(secrets.token_bytes(22)).decode(),
            "isDeliveryReceiptRequested": False,
            "isReadReceiptRequested": False,
            "isRead": True,
            "isDraft": True,
            "inferenceClassification": "focused",
            "body": _stored_body(body.get("body")),
            "toRecipients": _recipients(body.get("toRecipients")),
            "ccRecipients": _recipients(body.get("ccRecipients")),
            "bccRecipients": _recipients(body.get("bccRecipients")),
            "replyTo": _recipients(body.get("replyTo")),
            "flag": {"flagStatus": "notFlagged"},
        }
        fields["bodyPreview"] = _preview(fields["body"])
        stored = StoredMail(message_id, "drafts", fields, properties, headers)
        self.messages[message_id] = stored
        return stored

    def _as_received(self, sent: StoredMail) -> dict[str, Any]:
        """What a recipient's mail client shows of the message: every header and the body.

        The header set is modelled on messages Outlook sends (Thread-Topic, Thread-Index,
        X-MS-Has-Attach, X-MS-TNEF-Correlator are observed on them, not documented)."""
        f = sent.fields
        body = f["body"]
        kind = "html" if body["contentType"] == "html" else "plain"
        headers = [
            ("From", _address(f["from"])),
            ("To", ", ".join(_address(r) for r in f["toRecipients"])),
        ]
        if f["ccRecipients"]:
            headers.append(("Cc", ", ".join(_address(r) for r in f["ccRecipients"])))
        headers += [
            ("Subject", f["subject"]),
            ("Thread-Topic", f["subject"]),
            ("Thread-Index", f["conversationIndex"]),
            ("Date", format_datetime(self.clock.now())),
            ("Message-ID", f["internetMessageId"]),
            ("Accept-Language", "en-US"),
            ("Content-Language", "en-US"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
            ("Content-Type", f'text/{kind}; charset="utf-8"'),
            ("MIME-Version", "1.0"),
        ]
        headers += [(h["name"], h["value"]) for h in sent.headers]
        for prop_id, value in sent.properties.items():
            parsed = _PROPERTY_ID.match(prop_id)
            if (
                parsed
                and parsed["set"].lower() == INTERNET_HEADERS_SET
                and parsed["kind"] == "Name"
            ):
                headers.append((parsed["name"], value))
        recipients = [
            r["emailAddress"]["address"]
            for r in f["toRecipients"] + f["ccRecipients"] + f["bccRecipients"]
        ]
        return {
            "recipients": recipients,
            "headers": headers,
            "body": body["content"],
            "categories": list(f["categories"]),
        }

    def snapshot(self) -> Any:
        def brief(m: StoredMail) -> dict[str, Any]:
            return {
                "id": m.id,
                "folder": m.folder,
                "subject": m.fields["subject"],
                "to": [r["emailAddress"]["address"] for r in m.fields["toRecipients"]],
            }

        return {
            "outlook": {
                "messages": [brief(m) for m in self.messages.values()],
                "delivered": len(self.delivered),
            }
        }

    # -- HTTP ------------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        if not request.path.startswith(self.prefix):
            return None
        rest = self.subpath(request)
        for method, pattern, operation, writes in _ROUTES:
            if method == request.method and pattern.match(rest):
                return Routed(self.name, operation, writes)
        return None

    def handle(self, request: Request, routed: Routed) -> Response:
        _grant, refused = self.authorize(request, *SCOPES[routed.operation])
        if refused is not None:
            return refused
        rest = self.subpath(request)
        match = next(
            p.match(rest)
            for m, p, op, _ in _ROUTES
            if op == routed.operation and m == request.method and p.match(rest)
        )
        assert match is not None
        found = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        handler = getattr(self, "_" + routed.operation.replace(".", "_"))
        response: Response = handler(request, **found)
        return response

    def _messages_create(self, request: Request) -> Response:
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "RequestBodyRead", "Invalid JSON in the request body.")
        if not isinstance(body, dict):
            return self.error(400, "RequestBodyRead", "The request body must be a message.")
        headers = []
        for header in body.get("internetMessageHeaders") or []:
            name = str(header.get("name", ""))
            if not name.lower().startswith("x-"):
                return self.error(
                    400,
                    "InvalidInternetMessageHeader",
                    f"The internet message header name '{name}' should start with 'x-' or 'X-'.",
                )
            headers.append({"name": name, "value": str(header.get("value", ""))})
        properties = {}
        for prop in body.get("singleValueExtendedProperties") or []:
            prop_id = str(prop.get("id", ""))
            if not _PROPERTY_ID.match(prop_id):
                return self.error(
                    400, "ErrorInvalidProperty", f"The property id '{prop_id}' is not valid."
                )
            properties[_normalised(prop_id)] = str(prop.get("value", ""))
        kind = str((body.get("body") or {}).get("contentType", "text")).lower()
        if kind not in ("text", "html"):
            return self.error(400, "RequestBodyRead", f"Invalid body contentType '{kind}'.")
        stored = self._create(body, properties, headers)
        return Response(201, self._json(stored, None, "messages/$entity"))

    def _messages_get(self, request: Request, message: str) -> Response:
        stored = self.messages.get(message)
        if stored is None:
            return self.error(404, "ErrorItemNotFound", NOT_FOUND)
        return Response(200, self._json(stored, request.arg("$select"), "messages/$entity"))

    def _messages_list(self, request: Request, folder: str | None = None) -> Response:
        items = list(self.messages.values())
        if folder is not None:
            name = folder.lower()
            by_id = {self.folder_id(f): f for f in FOLDERS}
            name = by_id.get(folder, name)
            if name not in FOLDERS:
                return self.error(404, "ErrorItemNotFound", NOT_FOUND)
            items = [m for m in items if m.folder == name]
        wanted = request.arg("$filter")
        if wanted:
            parsed = _FILTER.match(wanted)
            if parsed is None:
                return self.error(400, "BadRequest", f"Invalid filter clause: {wanted}")
            prop_id = _normalised(parsed["id"].replace("''", "'"))
            value = parsed["value"].replace("''", "'").lower()
            items = [m for m in items if m.properties.get(prop_id, "").lower() == value]
        items.sort(key=lambda m: str(m.fields["receivedDateTime"]), reverse=True)
        top = min(max(int(request.arg("$top") or 10), 1), 1000)
        skip = int(request.arg("$skip") or 0)
        page = items[skip : skip + top]
        body: dict[str, Any] = graph_json(
            {"value": [self._json(m, request.arg("$select")) for m in page]},
            f"users('{self.directory.person.id}')/messages",
        )
        if skip + top < len(items):
            query = {k: v[0] for k, v in request.query.items()}
            query["$skip"] = str(skip + top)
            # on the endpoint asked: "sending the URL value of the @odata.nextLink property to
            # Microsoft Graph" retrieves the next page (https://learn.microsoft.com/en-us/graph/paging)
            host = request.headers.get("host", "127.0.0.1")
            link = f"http://{host}{request.path}?{urlencode(query)}"
            body["@odata.nextLink"] = link
        return Response(200, body)

    def _messages_send(self, request: Request, message: str) -> Response:
        stored = self.messages.get(message)
        if stored is None:
            return self.error(404, "ErrorItemNotFound", NOT_FOUND)
        if not stored.is_draft:  # the sandbox's choice: the docs say only drafts are sent
            return self.error(
                400, "ErrorInvalidOperation", "Only a draft message can be sent this way."
            )
        f = stored.fields
        if not (f["toRecipients"] or f["ccRecipients"] or f["bccRecipients"]):
            return self.error(
                400,
                "ErrorInvalidRecipients",
                "At least one recipient isn't valid., A message can't be sent because it "
                "contains no recipients.",
            )
        if self.send_later:
            self.in_flight.append(message)
        else:
            self.send_draft(message)
        return Response(202, None)

    def _messages_delete(self, request: Request, message: str) -> Response:
        if message not in self.messages:
            return self.error(404, "ErrorItemNotFound", NOT_FOUND)
        self._move(message, "deleteditems")
        return Response(204, None)

    def _json(
        self, stored: StoredMail, select: str | None, entity: str | None = None
    ) -> dict[str, Any]:
        tag = base64.b64encode(f"{stored.id[-12:]}{stored.change}".encode()).decode()
        whole: dict[str, Any] = {
            "@odata.etag": f'W/"CQAAABYAAAA{tag}"',
            "id": stored.id,
            **stored.fields,
            "changeKey": f"CQAAABYAAAA{tag}",
            "webLink": "https://outlook.office365.com/owa/?ItemID="
            + stored.id.replace("=", "%3D")
            + "&exvsurl=1&viewmodel=ReadMessageItem",
        }
        if select:
            names = [n.strip() for n in select.split(",") if n.strip()]
            shown = {"@odata.etag": whole["@odata.etag"], "id": stored.id}
            for name in names:
                if name == "internetMessageHeaders":
                    shown[name] = list(stored.headers)
                elif name in whole:
                    shown[name] = whole[name]
            whole = shown
        if entity is not None:
            return graph_json(whole, f"users('{self.directory.person.id}')/{entity}")
        return whole


def _normalised(prop_id: str) -> str:
    """An extended property id with its GUID lower-cased (the Name part stays as given)."""
    parsed = _PROPERTY_ID.match(prop_id.strip())
    if parsed is None:
        return prop_id.strip()
    return f"{parsed['type']} {parsed['set'].lower()} {parsed['kind']} {parsed['name']}"


def _stored_body(body: Any) -> dict[str, str]:
    """The body as Graph keeps it: HTML wrapped in a document, text as given."""
    body = body if isinstance(body, dict) else {}
    kind = str(body.get("contentType", "text")).lower()
    content = str(body.get("content", ""))
    if kind == "html":
        content = (
            '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
            'charset=utf-8">\r\n</head>\r\n<body>\r\n' + content + "\r\n</body>\r\n</html>\r\n"
        )
    return {"contentType": kind, "content": content}


def _preview(body: dict[str, str]) -> str:
    text = body["content"]
    if body["contentType"] == "html":
        text = unescape(re.sub(r"<[^>]+>", " ", text.split("<body>", 1)[-1]))
    return " ".join(text.split())[:255]


def _recipients(given: Any) -> list[dict[str, Any]]:
    found = []
    for item in given or []:
        email = (item or {}).get("emailAddress") or {}
        address = str(email.get("address", ""))
        found.append(
            {"emailAddress": {"name": str(email.get("name") or address), "address": address}}
        )
    return found


def _address(recipient: dict[str, Any]) -> str:
    email = recipient["emailAddress"]
    name = email.get("name") or ""
    return formataddr((name if name != email["address"] else "", email["address"]), "utf-8")


def seeded_outlook(box: SandboxSeed, directory: GraphDirectory) -> OutlookMailService:
    """A mailbox with one unrelated draft of the person's own (aligner must leave it alone)."""
    service = OutlookMailService(directory=directory, clock=box.clock)
    service.add_draft("Saturday?", "friend@example.org", "Still on for the hike on Saturday?\n")
    return service
