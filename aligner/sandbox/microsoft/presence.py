"""Fake Microsoft Graph presence: the signed-in user's Teams status message.

Exactly two calls, in Graph's own shapes:

    GET  /me/presence                      "presence.get"
    POST /me/presence/setStatusMessage     "presence.setStatusMessage"

- Get presence (https://learn.microsoft.com/en-us/graph/api/presence-get) answers 200 with a
  presence entity: `id` (the user's object id), `availability`, `activity`,
  `outOfOfficeSettings`, `sequenceNumber` and `statusMessage`, a presenceStatusMessage
  (https://learn.microsoft.com/en-us/graph/api/resources/presencestatusmessage):
  `message` (an itemBody: `content`, `contentType` "text"), `expiryDateTime` (a
  dateTimeTimeZone, https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone:
  `dateTime` without an offset plus `timeZone`) and the read-only `publishedDateTime`.
  No message reads as `"statusMessage": null`. The sandbox reports the expiry in UTC
  (7 fractional digits, as Graph writes dateTime values).
- setStatusMessage (https://learn.microsoft.com/en-us/graph/api/presence-setstatusmessage)
  takes `{"statusMessage": {"message": {"content", "contentType"}, "expiryDateTime"?}}` and
  answers 200 with no body. Without `expiryDateTime` the message does not expire. Only
  contentType "text" is supported (the resource page says so). The documentation does not say
  how to clear a message; what clients do, and what the sandbox honours, is an empty content.
  `timeZone` may be "UTC", an IANA name (the extra zones the dateTimeTimeZone page lists) or
  a Windows time-zone id (aligner.vendors.microsoft.zones); anything else is 400.
- Both need a work or school account ("Delegated (personal Microsoft account): Not
  supported"); the sandbox answers a personal account with 403 (see PERSONAL_ACCOUNT).
- GET needs Presence.Read (or Presence.ReadWrite); setStatusMessage needs Presence.ReadWrite.
- A message past its expiry (on the sandbox clock) reads as null, as Teams stops showing it.
- A message longer than MESSAGE_LIMIT characters is refused with 400 (see the surface for where
  that number comes from).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.microsoft.common import GraphService, graph_json
from aligner.vendors.microsoft.zones import zone_named

MESSAGE_LIMIT = 280
READ_SCOPES = ("Presence.Read", "Presence.ReadWrite", "Presence.Read.All")
WRITE_SCOPES = ("Presence.ReadWrite",)
PERSONAL_ACCOUNT = (
    "Presence is not supported for personal Microsoft accounts (MSA); "
    "a work or school account is required."
)


def graph_datetime(moment: datetime) -> str:
    """A dateTime as Graph writes it: UTC wall time, 7 fractional digits, no offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


@dataclass
class StatusMessage:
    content: str
    expires: datetime | None = None  # aware
    published: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class PresenceService(GraphService):
    message: StatusMessage | None = None
    availability: str = "Available"
    activity: str = "Available"
    sequence: int = 129311063

    # -- seeding and inspection --------------------------------------------------------------

    def set_message(self, content: str, expires: datetime | None = None) -> None:
        """What a person typing in Teams does (also the seed)."""
        self.message = StatusMessage(content, expires, self.clock.now()) if content else None
        self.sequence += 1

    def status(self) -> dict[str, Any] | None:
        """The message colleagues see now (None: none): {"content", "expires"} (ISO, UTC)."""
        current = self.message
        if current is not None and current.expires and current.expires <= self.clock.now():
            self.message = current = None
        if current is None:
            return None
        expires = current.expires.astimezone(UTC).isoformat() if current.expires else None
        return {"content": current.content, "expires": expires}

    def snapshot(self) -> Any:
        return {"presence": {"statusMessage": self.status()}}

    # -- HTTP --------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        path = self.subpath(request)
        if path == "me/presence" and request.method == "GET":
            return Routed(self.name, "presence.get", writes=False)
        if path == "me/presence/setStatusMessage" and request.method == "POST":
            return Routed(self.name, "presence.setStatusMessage", writes=True)
        return None

    def handle(self, request: Request, routed: Routed) -> Response:
        writes = routed.operation == "presence.setStatusMessage"
        grant, refused = self.authorize(request, *(WRITE_SCOPES if writes else READ_SCOPES))
        if grant is not None and not grant.person.work_account:
            return self.error(403, "Forbidden", PERSONAL_ACCOUNT)
        if refused is not None or grant is None:
            return refused or self.error(401, "InvalidAuthenticationToken", "No grant.")
        if writes:
            return self._set_status_message(request)
        return Response(200, self._presence(grant.person.id))

    def _presence(self, user_id: str) -> dict[str, Any]:
        status = self.status()
        message: dict[str, Any] | None = None
        if status is not None and self.message is not None:
            message = {
                "message": {"content": self.message.content, "contentType": "text"},
                "publishedDateTime": self.message.published.astimezone(UTC)
                .isoformat(timespec="microseconds")
                .replace("+00:00", "Z"),
            }
            if self.message.expires is not None:
                message["expiryDateTime"] = {
                    "dateTime": graph_datetime(self.message.expires),
                    "timeZone": "UTC",
                }
        return graph_json(
            {
                "id": user_id,
                "availability": self.availability,
                "activity": self.activity,
                "statusMessage": message,
                "outOfOfficeSettings": {"message": None, "isOutOfOffice": False},
                "sequenceNumber": f"A0{self.sequence}",
            },
            "users('" + user_id + "')/presence/$entity",
        )

    def _set_status_message(self, request: Request) -> Response:
        try:
            body = request.json()
            given = body["statusMessage"]
            item = given["message"]
            content = str(item.get("content") or "")
            kind = str(item.get("contentType") or "text")
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.error(400, "BadRequest", "Invalid request body.")
        if kind.lower() != "text":
            return self.error(
                400, "BadRequest", "Only contentType 'text' is supported for status messages."
            )
        if len(content) > MESSAGE_LIMIT:
            return self.error(
                400,
                "BadRequest",
                f"The status message exceeds the maximum length of {MESSAGE_LIMIT} characters.",
            )
        expires: datetime | None = None
        expiry = given.get("expiryDateTime")
        if expiry:
            try:
                wall = datetime.fromisoformat(str(expiry["dateTime"])[:26])
                zone = zone_named(str(expiry.get("timeZone") or "UTC"))
            except (ValueError, KeyError, TypeError):
                return self.error(400, "BadRequest", "Invalid expiryDateTime.")
            if zone is None or wall.tzinfo is not None:
                return self.error(400, "BadRequest", "Invalid expiryDateTime time zone.")
            expires = wall.replace(tzinfo=zone)
        self.set_message(content, expires)
        return Response(200, None, {"request-id": str(uuid.uuid4())})
