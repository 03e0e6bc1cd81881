"""Fake Google Calendar v3: calendars/{calendarId}/events insert, get, list, patch, update, delete.

Served under /calendar/v3/ in Google's wire format. Sources, per behaviour:
- the methods and their scopes (each page's "Authorization" section):
  https://developers.google.com/calendar/api/v3/reference/events/insert, and likewise
  .../events/get, .../events/list, .../events/patch, .../events/update, .../events/delete;
- client-chosen ids, unique per calendar, and a deleted event that keeps `status: "cancelled"`
  (and is still returned by get): the `id` and `status` fields of the Event resource,
  https://developers.google.com/calendar/api/v3/reference/events;
- 409 `duplicate` for an id the calendar already knows, deleted events included: the 409 is in
  https://developers.google.com/calendar/api/guides/errors; that a *deleted* id still
  collides is reported, not documented:
  https://github.com/googleapis/google-api-python-client/issues/846
  https://github.com/googleapis/google-api-ruby-client/issues/1811;
- DELETE answers 204 with no body (events/delete: "If successful, this method returns an empty
  response body"); deleting again answers 410 "Resource has been deleted" (reported, not
  documented: https://github.com/googleapis/google-api-python-client/issues/210);
- list with `privateExtendedProperty` (repeatable, all must match), `timeMin`/`timeMax`,
  `showDeleted`, `eventTypes`, `maxResults` and `pageToken`: events/list;
- a fresh etag and `updated` on every write: the Event resource's `etag` and `updated`;
- conditional modification: patch, update and delete with an `If-Match` header that is not the
  stored etag answer 412 ("Otherwise, you will get a 412 (Precondition failed) response code",
  https://developers.google.com/calendar/api/guides/version-resources); insert has none ("There
  is no support for conditional modifications for insert operations", same page). The guide
  gives only the status; the body's reason `conditionNotMet` is the sandbox's choice.

Focus time (https://developers.google.com/calendar/api/guides/calendar-status): "only available
on primary calendars, and to some Google Calendar users"; a Workspace account keeps it. What a
consumer account answers is not documented: it either refuses it (`consumer_focus = "refuse"`:
400) or silently stores a plain event (`"store-default"`), both selectable. Operations are named
"calendar.events.<method>" for the request log and fault injection.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from aligner.sandbox.google.calendar import rules
from aligner.sandbox.google.common import GoogleAccounts, google_error
from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.server import Clock

SCOPE = "https://www.googleapis.com/auth/"
# "Requires one of the following OAuth scopes" on events/insert|patch|update|delete (write) and
# events/get|list (read): https://developers.google.com/calendar/api/v3/reference/events/insert
WRITE_SCOPES = {SCOPE + s for s in ("calendar", "calendar.events", "calendar.events.owned")}
READ_SCOPES = WRITE_SCOPES | {
    SCOPE + s
    for s in ("calendar.readonly", "calendar.events.readonly", "calendar.events.owned.readonly")
}
ConsumerFocus = Literal["refuse", "store-default"]
# "HTTP request" of each method, e.g. POST .../calendar/v3/calendars/calendarId/events
# (https://developers.google.com/calendar/api/v3/reference/events/insert)
_PATH = re.compile(r"^/calendar/v3/calendars/(?P<calendar>[^/]+)/events(?:/(?P<event>[^/]+))?/?$")
_OPERATIONS = {
    ("POST", False): "insert",
    ("GET", False): "list",
    ("GET", True): "get",
    ("PATCH", True): "patch",
    ("PUT", True): "update",
    ("DELETE", True): "delete",
}
_WRITES = {"insert", "patch", "update", "delete"}


@dataclass
class FakeCalendar:
    id: str
    summary: str
    time_zone: str = "America/Los_Angeles"
    primary: bool = False
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class CalendarService(Service):
    clock: Clock = field(default_factory=Clock)
    accounts: GoogleAccounts = field(default_factory=GoogleAccounts)
    owner: str = "alex@example.com"
    workspace: bool = True  # a Workspace account keeps focus time; a consumer one does not
    consumer_focus: ConsumerFocus = "refuse"
    # Whether patch/update may bring a cancelled event back (status "confirmed"). Not
    # documented; a 403 on updating a deleted event is reported:
    # https://github.com/googleapis/google-api-ruby-client/issues/1811
    revivable: bool = True
    # Deleted events keep only their id: all the Event resource's `status` field promises
    # ("Deleted events are only guaranteed to have the id field populated").
    sparse_tombstones: bool = False
    calendars: dict[str, FakeCalendar] = field(default_factory=dict)
    _writes: int = 0

    name = "calendar"
    prefix = "/calendar/v3/"

    # -- seeding and inspection (what a person does in the Calendar UI) ----------------------

    def add_calendar(
        self, calendar_id: str, summary: str = "", *, primary: bool = False, zone: str = ""
    ) -> FakeCalendar:
        calendar = FakeCalendar(
            calendar_id, summary or calendar_id, zone or "America/Los_Angeles", primary
        )
        self.calendars[calendar_id] = calendar
        return calendar

    def set_account(self, *, workspace: bool, consumer_focus: ConsumerFocus = "refuse") -> None:
        self.workspace, self.consumer_focus = workspace, consumer_focus

    def events(
        self, calendar_id: str = "primary", *, deleted: bool = False
    ) -> list[dict[str, Any]]:
        calendar = self._calendar(calendar_id)
        assert calendar is not None, calendar_id
        return [
            copy.deepcopy(e)
            for e in _ordered(calendar.events.values())
            if deleted or e["status"] != "cancelled"
        ]

    def event(self, event_id: str, calendar_id: str = "primary") -> dict[str, Any]:
        calendar = self._calendar(calendar_id)
        assert calendar is not None, calendar_id
        return copy.deepcopy(calendar.events[event_id])

    def seed_event(self, body: dict[str, Any], calendar_id: str = "primary") -> dict[str, Any]:
        calendar = self._calendar(calendar_id)
        assert calendar is not None, calendar_id
        response = self._insert(calendar, body)
        assert response.status == 200, response.body
        return dict(response.body)

    def edit_event(
        self, event_id: str, calendar_id: str = "primary", **changes: Any
    ) -> dict[str, Any]:
        """A person edits the event in the Calendar UI (new etag, like any write)."""
        calendar = self._calendar(calendar_id)
        assert calendar is not None, calendar_id
        event = rules.merged(calendar.events[event_id], changes)
        return self._store(calendar, event, calendar.events[event_id])

    def delete_event(self, event_id: str, calendar_id: str = "primary") -> None:
        calendar = self._calendar(calendar_id)
        assert calendar is not None, calendar_id
        assert self._delete(calendar, event_id).status == 204

    def snapshot(self) -> Any:
        return {
            "workspace": self.workspace,
            "calendars": {
                c.id: {"primary": c.primary, "events": _ordered(c.events.values())}
                for c in self.calendars.values()
            },
        }

    # -- HTTP ----------------------------------------------------------------------------------

    def route(self, request: Request) -> Routed | None:
        match = _PATH.match(request.path)
        if match is None:
            return None
        method = _OPERATIONS.get((request.method, match.group("event") is not None))
        if method is None:
            return None
        return Routed(self.name, f"calendar.events.{method}", writes=method in _WRITES)

    def fault_response(self, status: int, retry_after: int | None) -> Response:
        """Injected failures in the shapes of the Calendar errors guide,
        https://developers.google.com/calendar/api/guides/errors: 403 `rateLimitExceeded`
        (domain usageLimits), 429 "Rate Limit Exceeded", 500/503 `backendError`. The guide
        shows 429 with domain `usageLimits`; the sandbox sends `global`. Google documents no
        Retry-After for these; the header is sent only when a test asks for one."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 403:
            return google_error(
                403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", headers
            )
        message = "Rate Limit Exceeded" if status == 429 else "Backend Error"
        return google_error(status, message, headers=headers)

    def handle(self, request: Request, routed: Routed) -> Response:
        """Scope check, calendar lookup ("primary" or the owner's address mean the primary
        calendar: `calendarId` on events/list), then the method. An unknown calendar or event
        is 404 `notFound` (https://developers.google.com/calendar/api/guides/errors)."""
        method = routed.operation.rsplit(".", 1)[1]
        denied = self.accounts.check(request, WRITE_SCOPES if routed.writes else READ_SCOPES)
        if denied:
            return denied
        match = _PATH.match(request.path)
        assert match is not None
        calendar = self._calendar(unquote(match.group("calendar")))
        if calendar is None:
            return google_error(404, "Not Found")
        event_id = unquote(match.group("event") or "")
        if method == "list":
            return self._list(calendar, request)
        if method == "insert":
            return self._insert(calendar, _body(request))
        existing = calendar.events.get(event_id)
        if existing is None:
            return google_error(404, "Not Found")
        if method == "get":
            return Response(200, self._shown(existing))
        stale = _precondition_failed(request, existing)
        if stale:
            return stale
        if method == "delete":
            return self._delete(calendar, event_id)
        return self._modify(calendar, existing, _body(request), replace=method == "update")

    # -- methods -------------------------------------------------------------------------------

    def _calendar(self, calendar_id: str) -> FakeCalendar | None:
        if calendar_id == "primary" or calendar_id == self.owner:
            return next((c for c in self.calendars.values() if c.primary), None)
        return self.calendars.get(calendar_id)

    def _insert(self, calendar: FakeCalendar, body: Any) -> Response:
        """events.insert: https://developers.google.com/calendar/api/v3/reference/events/insert

        A client-chosen id must follow the Event resource's rules (rules.check_id); an id the
        calendar already holds, even a deleted event's, is 409 `duplicate` (see the module
        docstring for the sources). Without one the server makes one. Read-only fields of the
        body are ignored.
        """
        if not isinstance(body, dict):
            return rules.bad("Invalid JSON payload.", "parseError")
        event_id = body.get("id")
        if event_id is not None:
            problem = rules.check_id(event_id)
            if problem:
                return problem
            if event_id in calendar.events:
                return google_error(409, "The requested identifier already exists.", "duplicate")
        else:
            event_id = secrets.token_hex(13)
        event = {k: v for k, v in body.items() if k not in rules.READ_ONLY}
        event.update(id=event_id, status=body.get("status") or "confirmed")
        event.setdefault("eventType", "default")
        problem = rules.check_event(event) or self._focus_problem(calendar, event)
        if problem:
            return problem
        if event["eventType"] == "focusTime" and not self.workspace:
            event["eventType"] = "default"  # "store-default": accepted, kept as a plain event
            event.pop("focusTimeProperties", None)
        return Response(200, self._store(calendar, event, None))

    def _focus_problem(self, calendar: FakeCalendar, event: dict[str, Any]) -> Response | None:
        """Focus time only on a primary calendar of an account that has it
        (https://developers.google.com/calendar/api/guides/calendar-status). The 400 and its
        message are the sandbox's: Google does not document the refusal."""
        if event.get("eventType") != "focusTime":
            return None
        if not calendar.primary or (not self.workspace and self.consumer_focus == "refuse"):
            return rules.bad(rules.FOCUS_REFUSED)
        return None

    def _modify(
        self,
        calendar: FakeCalendar,
        existing: dict[str, Any],
        body: Any,
        *,
        replace: bool,
    ) -> Response:
        """events.patch (replace=False) and events.update (replace=True).

        https://developers.google.com/calendar/api/v3/reference/events/patch and
        https://developers.google.com/calendar/api/v3/reference/events/update. `eventType`
        cannot change ("This cannot be modified after the event is created": the Event
        resource's `eventType`); the 400 `eventTypeRestriction` reason is reported, not
        documented. Refusing a changed `id` and the 403 for a cancelled event when not
        `revivable` are the sandbox's choices (see `revivable`).
        """
        if not isinstance(body, dict):
            return rules.bad("Invalid JSON payload.", "parseError")
        if existing["status"] == "cancelled" and not self.revivable:
            return google_error(403, "Forbidden", "forbidden")
        if body.get("id", existing["id"]) != existing["id"]:
            return rules.bad("The event id cannot be changed.")
        if body.get("eventType", existing["eventType"]) != existing["eventType"]:
            return rules.bad("The event type cannot be changed.", "eventTypeRestriction")
        if replace:
            kept = {k: existing[k] for k in (*rules.READ_ONLY, "id", "eventType", "status")}
            kept = {k: v for k, v in kept.items() if v is not None}
            event = {**{k: v for k, v in body.items() if k not in rules.READ_ONLY}, **kept}
            if body.get("status"):
                event["status"] = body["status"]
        else:
            event = rules.merged(existing, body)
        problem = rules.check_event(event) or self._focus_problem(calendar, event)
        if problem:
            return problem
        return Response(200, self._store(calendar, event, existing))

    def _delete(self, calendar: FakeCalendar, event_id: str) -> Response:
        """events.delete: https://developers.google.com/calendar/api/v3/reference/events/delete

        204 with an empty body; the event stays as `status: "cancelled"` (Event resource,
        `status`). A second delete is 410 `deleted` (reported, not documented:
        https://github.com/googleapis/google-api-python-client/issues/210).
        """
        existing = calendar.events.get(event_id)
        if existing is None:
            return google_error(404, "Not Found")
        if existing["status"] == "cancelled":
            return google_error(410, "Resource has been deleted", "deleted")
        self._store(calendar, {**existing, "status": "cancelled"}, existing)
        return Response(204, None)

    def _list(self, calendar: FakeCalendar, request: Request) -> Response:
        """events.list: https://developers.google.com/calendar/api/v3/reference/events/list

        The parameters are read by rules.list_query. Paging: `nextPageToken` while more
        results remain. The page token is the sandbox's own (an offset); Google's is opaque.
        """
        query = rules.list_query(request.query)
        if isinstance(query, Response):
            return query
        shown = [self._shown(e) for e in _ordered(calendar.events.values())]
        found = [e for e in shown if query.selects(e)]
        page = found[query.offset : query.offset + query.limit]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{self._writes}"',
            "summary": calendar.summary,
            "updated": rules.rfc3339(self.clock.now()),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": page,
        }
        if query.offset + query.limit < len(found):
            body["nextPageToken"] = str(query.offset + query.limit)
        return Response(200, body)

    def _shown(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event as the API returns it; with sparse tombstones, a deleted one is just its id."""
        if event["status"] == "cancelled" and self.sparse_tombstones:
            kept = ("kind", "etag", "id", "status", "updated")
            return {k: event[k] for k in kept}
        return copy.deepcopy(event)

    def _store(
        self, calendar: FakeCalendar, event: dict[str, Any], previous: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Keep an event as Google does: fresh etag and `updated` on every write (the Event
        resource's `etag` and `updated`:
        https://developers.google.com/calendar/api/v3/reference/events)."""
        self._writes += 1
        organizer = self.owner if calendar.primary else calendar.id
        event = rules.as_stored(
            event, previous, self.clock.now(), self._writes, self.owner, organizer
        )
        calendar.events[event["id"]] = event
        return copy.deepcopy(event)


def _precondition_failed(request: Request, existing: dict[str, Any]) -> Response | None:
    """412 when `If-Match` names another version than the stored one (conditional modification:
    https://developers.google.com/calendar/api/guides/version-resources). `*` matches any
    version (RFC 9110 §13.1.1); a list of etags is the sandbox's reading of the same RFC. The
    message and the `conditionNotMet` reason are reported, not documented for Calendar (the
    guide gives only the status code)."""
    wanted = request.headers.get("if-match")
    if wanted is None:
        return None
    tags = {tag.strip() for tag in wanted.split(",")}
    if "*" in tags or existing.get("etag") in tags:
        return None
    return google_error(412, "Precondition Failed", "conditionNotMet")


def _body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError:
        return None


def _ordered(events: Any) -> list[dict[str, Any]]:
    def key(event: dict[str, Any]) -> tuple[str, str]:
        start = rules.instant(event["start"])
        return (start.isoformat() if start else "", event["id"])

    return sorted(events, key=key)


def seeded_calendar(accounts: GoogleAccounts, clock: Clock, email: str) -> CalendarService:
    """A Workspace account with a primary calendar, a shared one and a meeting of its own."""
    service = CalendarService(clock=clock, accounts=accounts, owner=email)
    service.add_calendar(email, email, primary=True, zone="America/Los_Angeles")
    service.add_calendar("c0team@group.calendar.google.com", "Team", zone="America/Los_Angeles")
    service.seed_event(
        {
            "summary": "Team standup",
            "start": {"dateTime": "2026-12-02T09:30:00", "timeZone": "America/Los_Angeles"},
            "end": {"dateTime": "2026-12-02T09:45:00", "timeZone": "America/Los_Angeles"},
        }
    )
    return service
