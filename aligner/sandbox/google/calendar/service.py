"""Fake Google Calendar v3: calendars/{calendarId}/events insert, get, list, patch, update, delete.

Served under /calendar/v3/ in Google's wire format (api-notes §2): client-chosen ids, 409
`duplicate` for an id the calendar already knows (deleted events included: Google keeps them as
`status: "cancelled"`), DELETE 204 then 410 `deleted`, get returning tombstones, list with
`privateExtendedProperty` (AND-ed), `timeMin`/`timeMax`, `showDeleted`, `eventTypes` and paging,
etags that change on every write, scope checks through the shared GoogleAccounts.

Focus time: primary calendar only; a Workspace account keeps it. A consumer account either refuses
it (`consumer_focus = "refuse"`: 400) or silently stores a plain event (`"store-default"`) — Google
does not document which, so both are selectable. Operations are named "calendar.events.<method>"
for the request log and fault injection.
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
WRITE_SCOPES = {SCOPE + s for s in ("calendar", "calendar.events", "calendar.events.owned")}
READ_SCOPES = WRITE_SCOPES | {
    SCOPE + s
    for s in ("calendar.readonly", "calendar.events.readonly", "calendar.events.owned.readonly")
}
ConsumerFocus = Literal["refuse", "store-default"]
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
    revivable: bool = True  # whether a cancelled event can be brought back by patch/update
    sparse_tombstones: bool = False  # deleted events keep only their id (all Google promises)
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
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if status == 403:
            return google_error(
                403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits", headers
            )
        message = "Rate Limit Exceeded" if status == 429 else "Backend Error"
        return google_error(status, message, headers=headers)

    def handle(self, request: Request, routed: Routed) -> Response:
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
        if method == "delete":
            return self._delete(calendar, event_id)
        existing = calendar.events.get(event_id)
        if existing is None:
            return google_error(404, "Not Found")
        if method == "get":
            return Response(200, self._shown(existing))
        return self._modify(calendar, existing, _body(request), replace=method == "update")

    # -- methods -------------------------------------------------------------------------------

    def _calendar(self, calendar_id: str) -> FakeCalendar | None:
        if calendar_id == "primary" or calendar_id == self.owner:
            return next((c for c in self.calendars.values() if c.primary), None)
        return self.calendars.get(calendar_id)

    def _insert(self, calendar: FakeCalendar, body: Any) -> Response:
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
        existing = calendar.events.get(event_id)
        if existing is None:
            return google_error(404, "Not Found")
        if existing["status"] == "cancelled":
            return google_error(410, "Resource has been deleted", "deleted")
        self._store(calendar, {**existing, "status": "cancelled"}, existing)
        return Response(204, None)

    def _list(self, calendar: FakeCalendar, request: Request) -> Response:
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
        """Keep an event as Google does: fresh etag and `updated` on every write."""
        self._writes += 1
        organizer = self.owner if calendar.primary else calendar.id
        event = rules.as_stored(
            event, previous, self.clock.now(), self._writes, self.owner, organizer
        )
        calendar.events[event["id"]] = event
        return copy.deepcopy(event)


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
