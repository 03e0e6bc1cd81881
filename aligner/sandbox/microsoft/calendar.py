"""Fake Outlook calendar through Microsoft Graph: the signed-in user's events, in Graph's JSON.

Served under /graph/v1.0/ (see common.py). Sources, per behaviour:
- create: `POST /me/calendar/events` or `POST /me/events`, 201 Created with the event
  (https://learn.microsoft.com/en-us/graph/api/calendar-post-events,
  https://learn.microsoft.com/en-us/graph/api/user-post-events);
- list: `GET /me/events` (and /me/calendar/events), 200 with `value` and `@odata.nextLink` while
  more remain (https://learn.microsoft.com/en-us/graph/api/user-list-events,
  https://learn.microsoft.com/en-us/graph/paging); `$top` (the sandbox pages by 10 by default,
  as Graph does for events), `$skip` in the next link;
- `$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')`
  (also `startswith(ep/value, '…')`) and `$expand=singleValueExtendedProperties($filter=id eq
  '{id}')`: the id's name is matched case-sensitively, the value case-insensitively, and the
  list carries the property only when expanded
  (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get);
- get / update / delete: `GET|PATCH|DELETE /me/events/{id}`; PATCH answers 200 with the event,
  DELETE 204 with no body, and a deleted event is gone: 404 `ErrorItemNotFound`
  (https://learn.microsoft.com/en-us/graph/api/event-get,
  https://learn.microsoft.com/en-us/graph/api/event-update,
  https://learn.microsoft.com/en-us/graph/api/event-delete);
- the event's fields (`id`, `@odata.etag`, `changeKey` that changes on every change, `iCalUId`,
  `subject`, `body`, `start`/`end` as dateTimeTimeZone, returned in UTC by default, `showAs`,
  `sensitivity`, `organizer`, `transactionId` "only returned in a response payload if an app has
  set it" and not changeable by a later update): the event resource,
  https://learn.microsoft.com/en-us/graph/api/resources/event;
- `transactionId`: Graph documents it as "a custom identifier specified by a client app for the
  server to avoid redundant POST operations in case of client retries to create the same
  event", with no time window and no answer shape. The sandbox's reading: a POST whose
  transactionId is that of an event still on the calendar answers 201 with that event and
  creates nothing;
- `If-Match` on PATCH and DELETE: not documented for events; Exchange compares it with the
  item's change key and answers 412 `ErrorIrresolvableConflict` ("…the change key passed in the
  request does not match the current change key for the item"), as reported in
  https://github.com/mguessan/davmail/issues/491 and
  https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/1201;
- permissions: Calendars.ReadWrite to write, Calendars.Read or Calendars.ReadWrite to read; a
  token without them is 403 `ErrorAccessDenied` (common.py).
Operations are named "events.create|list|get|update|delete" and "calendars.get" (`GET
/me/calendar`, https://learn.microsoft.com/en-us/graph/api/calendar-get) for the request log and
fault injection.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.microsoft.common import GraphDirectory, GraphService, graph_json
from aligner.sandbox.server import Clock
from aligner.vendors.microsoft.zones import zone_named

READ = ("Calendars.Read", "Calendars.ReadWrite")
WRITE = ("Calendars.ReadWrite",)
CALENDAR_ID = (
    "AAMkAGVmMDEzMTM4LTZmYWUtNDdkNC1hMDZiLTU1OGY5OTZhYmY4OABGAAAAAAAiQ8W967B7TKBjgx9rVEURBwAi"
    "IsqMbYjsT5e-T7KzowPTAAAAAAEGAAAiIsqMbYjsT5e-T7KzowPTAAAYbuK-AAA="
)
PAGE = 10  # Graph's default page size for events
MAX_TOP = 1000
CONFLICT = (
    "The send or update operation could not be performed because the change key passed in the "
    "request does not match the current change key for the item."
)
_COLLECTIONS = ("me/events", "me/calendar/events")
_ITEM = re.compile(r"^me/(?:calendar/)?events/(?P<id>[^/]+)$")
_ANY = re.compile(
    r"^singleValueExtendedProperties/Any\(\s*(?P<var>\w+)\s*:\s*"
    r"(?P=var)/id eq '(?P<id>(?:[^']|'')*)'"
    r"\s+and\s+(?:(?P=var)/value eq '(?P<eq>(?:[^']|'')*)'"
    r"|startswith\(\s*(?P=var)/value\s*,\s*'(?P<prefix>(?:[^']|'')*)'\s*\))\s*\)$"
)
_EXPAND = re.compile(r"^singleValueExtendedProperties\(\$filter=id eq '(?P<id>(?:[^']|'')*)'\)$")
READ_ONLY = {
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "organizer",
    "isOrganizer",
    "type",
    "webLink",
    "bodyPreview",
    "@odata.etag",
    "@odata.context",
}


@dataclass
class OutlookCalendarService(GraphService):
    """The signed-in person's default Outlook calendar."""

    forbidden_code = "ErrorAccessDenied"
    calendar_name: str = "Calendar"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {prop id: value}
    _writes: int = 0

    # -- seeding and inspection (what a person does in Outlook) -----------------------------

    def seed_event(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(body)[0]

    def all_events(self) -> list[dict[str, Any]]:
        """Every event on the calendar, each with all its extended properties."""
        return [self.event(i) for i in self._ordered()]

    def event(self, event_id: str) -> dict[str, Any]:
        shown = copy.deepcopy(self.events[event_id])
        props = self.properties.get(event_id) or {}
        if props:
            shown["singleValueExtendedProperties"] = [
                {"id": k, "value": v} for k, v in props.items()
            ]
        return shown

    def edit_event(self, event_id: str, **changes: Any) -> dict[str, Any]:
        """A person edits the event in Outlook (a new change key, like any write)."""
        return self._update(event_id, changes)

    def delete_event(self, event_id: str) -> None:
        del self.events[event_id]
        self.properties.pop(event_id, None)

    def snapshot(self) -> Any:
        return {"outlook_calendar": {"name": self.calendar_name, "events": self.all_events()}}

    # -- HTTP ---------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        path = self.subpath(request)
        if path in _COLLECTIONS:
            ops = {"POST": "create", "GET": "list"}
        elif _ITEM.match(path):
            ops = {"GET": "get", "PATCH": "update", "DELETE": "delete"}
        elif path == "me/calendar" and request.method == "GET":
            return Routed(self.name, "calendars.get", writes=False)
        else:
            return None
        op = ops.get(request.method)
        if op is None:
            return None
        return Routed(self.name, f"events.{op}", writes=op in ("create", "update", "delete"))

    def handle(self, request: Request, routed: Routed) -> Response:
        _, denied = self.authorize(request, *(WRITE if routed.writes else READ))
        if denied is not None:
            return denied
        op = routed.operation
        if op == "calendars.get":
            return Response(200, graph_json(self._calendar(), "users('me')/calendar/$entity"))
        if op == "events.list":
            return self._list(request)
        if op == "events.create":
            body = _body(request)
            if not isinstance(body, dict):
                return self.error(400, "RequestBodyRead", "Invalid request body.")
            event, _ = self._create(body)
            return Response(201, graph_json(event, "users('me')/events/$entity"))
        match = _ITEM.match(self.subpath(request))
        assert match is not None
        event_id = unquote(match.group("id"))
        if event_id not in self.events:
            return self.error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if op == "events.get":
            return Response(
                200, graph_json(self._shown(event_id, request), "users('me')/events/$entity")
            )
        wanted = request.headers.get("if-match")
        if wanted is not None and wanted.strip() not in ("*", self.events[event_id]["@odata.etag"]):
            return self.error(412, "ErrorIrresolvableConflict", CONFLICT)
        if op == "events.delete":
            self.delete_event(event_id)
            return Response(204, None)
        body = _body(request)
        if not isinstance(body, dict):
            return self.error(400, "RequestBodyRead", "Invalid request body.")
        if "transactionId" in body and body["transactionId"] != self.events[event_id].get(
            "transactionId"
        ):
            return self.error(
                400, "ErrorInvalidRequest", "The transactionId of an event cannot be changed."
            )
        updated = self._update(event_id, body)
        return Response(200, graph_json(updated, "users('me')/events/$entity"))

    # -- methods --------------------------------------------------------------------------------

    def _calendar(self) -> dict[str, Any]:
        person = self.directory.person
        return {
            "id": CALENDAR_ID,
            "name": self.calendar_name,
            "color": "auto",
            "hexColor": "",
            "isDefaultCalendar": True,
            "changeKey": "IiLKjG2I7E+Xvk+ys6MD0wAAGG7ifg==",
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": True,
            "isRemovable": False,
            "owner": {"name": person.display_name, "address": person.user_principal_name},
        }

    def _create(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(the event, whether it is new): a known transactionId returns the existing event."""
        transaction = body.get("transactionId")
        if transaction:
            for known, existing in self.events.items():
                if existing.get("transactionId") == transaction:
                    return self._shown(known, None), False
        event_id = "AAMkAGI2" + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode()
        person = self.directory.person
        now = _stamp(self.clock.now())
        event: dict[str, Any] = {
            "id": event_id,
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "changeKey": "",
            "categories": [],
            "originalStartTimeZone": (body.get("start") or {}).get("timeZone") or "UTC",
            "originalEndTimeZone": (body.get("end") or {}).get("timeZone") or "UTC",
            "iCalUId": "040000008200E00074C5B7101A82E00800000000"
            + hashlib.sha256(event_id.encode()).hexdigest()[:48].upper(),
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "hasAttachments": False,
            "subject": "",
            "bodyPreview": "",
            "importance": "normal",
            "sensitivity": "normal",
            "isAllDay": False,
            "isCancelled": False,
            "isOrganizer": True,
            "responseRequested": True,
            "seriesMasterId": None,
            "showAs": "busy",
            "type": "singleInstance",
            "webLink": "https://outlook.office365.com/owa/?itemid="
            + quote(event_id, safe="")
            + "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "allowNewTimeProposals": True,
            "isDraft": False,
            "hideAttendees": False,
            "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
            "body": {"contentType": "html", "content": ""},
            "start": None,
            "end": None,
            "location": {"displayName": "", "locationType": "default"},
            "locations": [],
            "recurrence": None,
            "attendees": [],
            "organizer": {
                "emailAddress": {
                    "name": person.display_name,
                    "address": person.user_principal_name,
                }
            },
            "onlineMeeting": None,
        }
        if transaction:
            event["transactionId"] = transaction
        self.events[event_id] = event
        self.properties[event_id] = {}
        self._apply(event_id, body)
        return self._shown(event_id, None), True

    def _update(self, event_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._apply(event_id, body)
        return self._shown(event_id, None)

    def _apply(self, event_id: str, body: dict[str, Any]) -> None:
        """Merge writable fields; a new change key, etag and lastModifiedDateTime."""
        event = self.events[event_id]
        for key, value in body.items():
            if key in READ_ONLY or key == "transactionId":
                continue
            if key == "singleValueExtendedProperties":
                for prop in value or []:
                    self.properties[event_id][str(prop["id"])] = str(prop["value"])
                continue
            if key in ("start", "end") and isinstance(value, dict):
                value = _as_utc(value)
            event[key] = copy.deepcopy(value)
        content = str((event.get("body") or {}).get("content") or "")
        event["bodyPreview"] = _text(content, event["body"].get("contentType"))[:255]
        self._writes += 1
        digest = hashlib.sha256(f"{event_id}:{self._writes}".encode()).digest()[:16]
        event["changeKey"] = base64.b64encode(digest).decode()
        event["@odata.etag"] = f'W/"{event["changeKey"]}"'
        event["lastModifiedDateTime"] = _stamp(self.clock.now())

    def _shown(self, event_id: str, request: Request | None) -> dict[str, Any]:
        """The event as Graph returns it: the etag first, extended properties only when asked
        for by `$expand`, the body as text when `Prefer: outlook.body-content-type="text"`."""
        event = copy.deepcopy(self.events[event_id])
        shown = {"@odata.etag": event.pop("@odata.etag"), **event}
        if request is None:
            return shown
        prefer = request.headers.get("prefer", "")
        if 'outlook.body-content-type="text"' in prefer.replace("'", '"'):
            body = shown.get("body") or {}
            shown["body"] = {
                "contentType": "text",
                "content": _text(str(body.get("content") or ""), body.get("contentType")),
            }
        expand = request.arg("$expand")
        if expand:
            match = _EXPAND.match(expand)
            if match:
                wanted = match.group("id").replace("''", "'")
                props = self.properties.get(event_id) or {}
                shown["singleValueExtendedProperties"] = [
                    {"id": k, "value": v} for k, v in props.items() if k == wanted
                ]
        return shown

    def _list(self, request: Request) -> Response:
        selects = _selector(request.arg("$filter"))
        if isinstance(selects, str):
            return self.error(400, "ErrorInvalidUrlQueryFilter", selects)
        expand = request.arg("$expand")
        if expand and not _EXPAND.match(expand):
            return self.error(
                400, "BadRequest", f"Parsing OData Select and Expand failed: {expand}"
            )
        try:
            top = min(int(request.arg("$top") or PAGE), MAX_TOP)
            skip = int(request.arg("$skip") or 0)
        except ValueError:
            return self.error(400, "BadRequest", "Invalid $top or $skip.")
        found = [i for i in self._ordered() if selects(self.properties.get(i) or {})]
        page = [self._shown(i, request) for i in found[skip : skip + top]]
        body: dict[str, Any] = graph_json({"value": page}, "users('me')/events")
        if skip + top < len(found):
            query = {k: v[0] for k, v in request.query.items() if k != "$skip"}
            query["$skip"] = str(skip + top)
            host = request.headers.get("host", "127.0.0.1")
            text = "&".join(f"{k}={quote(v, safe=chr(39) + '(),:/$')}" for k, v in query.items())
            body["@odata.nextLink"] = f"http://{host}{request.path}?{text}"
        return Response(200, body)

    def _ordered(self) -> list[str]:
        def key(event_id: str) -> tuple[str, str]:
            start = self.events[event_id].get("start") or {}
            return (str(start.get("dateTime") or ""), event_id)

        return sorted(self.events, key=key)


def _selector(text: str | None) -> Any:
    """A predicate over an event's extended properties, or the error message for `$filter`."""
    if not text:
        return lambda props: True
    match = _ANY.match(text.strip())
    if match is None:
        return f"Invalid filter clause: {text}"
    prop = match.group("id").replace("''", "'")
    equal = match.group("eq")
    prefix = match.group("prefix")

    def selects(props: dict[str, str]) -> bool:
        value = props.get(prop)  # the name in the id is case-sensitive
        if value is None:
            return False
        if equal is not None:
            return value.lower() == equal.replace("''", "'").lower()
        return value.lower().startswith(str(prefix).replace("''", "'").lower())

    return selects


def _as_utc(value: dict[str, Any]) -> dict[str, Any]:
    """A dateTimeTimeZone as Graph returns it by default: in UTC, seven fractional digits."""
    text = str(value.get("dateTime") or "")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")[:26].rstrip("."))
    if moment.tzinfo is None:  # an IANA name or a Windows id, as Graph accepts
        zone = zone_named(str(value.get("timeZone") or "UTC")) or ZoneInfo("UTC")
        moment = moment.replace(tzinfo=zone)
    utc = moment.astimezone(UTC)
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _text(content: str, content_type: Any) -> str:
    if str(content_type).lower() != "html":
        return content
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content)).strip()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


def seeded_outlook_calendar(directory: GraphDirectory, clock: Clock) -> OutlookCalendarService:
    """The person's default Outlook calendar, with a meeting of their own on it."""
    service = OutlookCalendarService(directory=directory, clock=clock)
    service.seed_event(
        {
            "subject": "Team standup",
            "body": {"contentType": "html", "content": "<p>Daily sync</p>"},
            "start": {"dateTime": "2026-12-02T09:30:00", "timeZone": "America/Los_Angeles"},
            "end": {"dateTime": "2026-12-02T09:45:00", "timeZone": "America/Los_Angeles"},
        }
    )
    return service
