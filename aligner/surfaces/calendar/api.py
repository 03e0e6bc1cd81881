"""The Calendar v3 calls the blocks surface makes, with the duplicate-id cases handled.

Every call goes through `aligner.vendors.google.client.execute`. Retrying is safe for all of
them: get, list, patch and delete are idempotent, and every insert carries a client-chosen id,
so a retried insert whose first attempt was committed answers 409 instead of creating a
duplicate — which `create` handles like any other known id: a cancelled (deleted) event is
brought back, a live one is compared and updated.

Patch and delete are conditional: they carry `If-Match` with the etag read in the same run
(https://developers.google.com/calendar/api/guides/version-resources). A 412 means a person
changed the event between the read and the write; aligner then writes nothing and says so
(`EventChanged`). A retried write whose first attempt landed also meets a 412 (the etag moved
on): the event is read again, and when it already says what aligner asked, that is success.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from aligner.errors import PermanentError
from aligner.surfaces.calendar.events import (
    LEGACY_MARK,
    MARK,
    FocusTimeRefused,
    same,
    view_of,
)
from aligner.vendors.google.client import execute
from aligner.vendors.google.errors import GoogleStatus
from aligner.vendors.google.scopes import CALENDAR_EVENTS

SURFACE = "calendar"
PAGE_SIZE = 2500
Event = dict[str, Any]


class EventChanged(PermanentError):
    """Google answered 412: the event is no longer the version aligner read in this run."""


def changed_since_read(event_id: str) -> EventChanged:
    return EventChanged(
        f"event {event_id} changed on the calendar since aligner read it in this run "
        "(someone edited it); left as it is — the next plan shows the conflict",
        SURFACE,
    )


class CalendarApi:
    """Calendar calls over one client per thread: httplib2 is not thread-safe. `service` goes
    to the first thread that calls (the engine reads and writes from its own threads, so the
    thread that connected rarely does); any other thread builds its own with `make` (block
    writes go out from a small pool). Each thread's client keeps its connection between calls
    (a write reuses it only when it is sound, else goes over a fresh one: see google_transport)
    until `close`."""

    def __init__(self, service: Any, make: Callable[[], Any] | None = None) -> None:
        self._make = make
        self._first = service
        self._unclaimed: Any = service  # `service`, until a thread takes it
        self._claim = threading.Lock()
        self._local = threading.local()
        self.summary: str | None = None  # of the calendar last listed (see `owned`)

    @property
    def service(self) -> Any:
        service = getattr(self._local, "service", None)
        if service is None:
            with self._claim:
                service, self._unclaimed = self._unclaimed, None
            if service is None:
                service = self._make() if self._make is not None else self._first
            self._local.service = service
            self._local.events = service.events()
        return service

    @property
    def events(self) -> Any:
        self.service  # noqa: B018  # makes this thread's client when it has none
        return self._local.events

    def close(self) -> None:
        """Close this thread's sockets (httplib2 keeps them open between calls)."""
        service = getattr(self._local, "service", None)
        if service is not None:
            service.close()

    def _run(self, request: Any, expect: tuple[int, ...] = ()) -> Any:
        """Every call is safe to repeat."""
        return execute(request, SURFACE, CALENDAR_EVENTS, retry=True, expect=expect)

    # -- reads -------------------------------------------------------------------------------

    def owned(self, calendar_id: str, *, legacy: bool = False) -> Iterator[Event]:
        """Every event aligner marked on this calendar, deleted ones included (one call a page);
        with `legacy`, also those marked the way releases before the neutral marks did (one
        more list), each event once."""
        seen: set[str] = set()
        for mark in (MARK, LEGACY_MARK) if legacy else (MARK,):
            for event in self._listed(calendar_id, mark):
                if event.get("id") not in seen:
                    seen.add(str(event.get("id")))
                    yield event

    def _listed(self, calendar_id: str, mark: str) -> Iterator[Event]:
        token: str | None = None
        while True:
            page = self._run(
                self.events.list(
                    calendarId=calendar_id,
                    privateExtendedProperty=[mark],
                    showDeleted=True,
                    maxResults=PAGE_SIZE,
                    pageToken=token,
                )
            )
            self.summary = page.get("summary")  # the primary calendar's is the account's email
            yield from page.get("items") or []
            token = page.get("nextPageToken")
            if not token:
                return

    def get(self, calendar_id: str, event_id: str) -> Event | None:
        try:
            event: Event = self._run(
                self.events.get(calendarId=calendar_id, eventId=event_id), expect=(404, 410)
            )
        except GoogleStatus:
            return None
        return event

    # -- writes ------------------------------------------------------------------------------

    def create(self, calendar_id: str, body: Event, ids: list[str]) -> Event:
        """Insert under the first usable id of `ids`; an id Google already knows is reused."""
        for candidate in ids:
            try:
                event: Event = self._run(
                    self.events.insert(
                        calendarId=calendar_id, body={**body, "id": candidate}, sendUpdates="none"
                    ),
                    expect=(400, 409),
                )
                return event
            except GoogleStatus as exc:
                if exc.status == 400:
                    raise _refusal(exc, body) from None
            existing = self.get(calendar_id, candidate)
            if existing is None:
                continue  # the id is taken but unreadable: try the next one
            if existing.get("status") != "cancelled":
                return self.reconcile(calendar_id, existing, body)
            revived = self.revive(calendar_id, candidate, body, etag=existing.get("etag"))
            if revived is not None:
                return revived
        raise PermanentError(
            "Google keeps refusing the ids aligner derives for this block "
            f"({', '.join(ids)}); change the block's id in the theme file",
            SURFACE,
        )

    def reconcile(self, calendar_id: str, existing: Event, body: Event) -> Event:
        """An event already there under our id: update it only where it differs."""
        wanted = view_of({**existing, **body})
        if same(view_of(existing), wanted) and existing.get("eventType") == body.get("eventType"):
            return existing
        return self.patch(calendar_id, str(existing["id"]), body, etag=existing.get("etag"))

    def revive(
        self, calendar_id: str, event_id: str, body: Event, etag: str | None = None
    ) -> Event | None:
        """Bring a cancelled event back; None when Google will not (then use a fresh id)."""
        try:
            return self.patch(
                calendar_id,
                event_id,
                {**body, "status": "confirmed"},
                etag=etag,
                expect=(403, 404, 410),
            )
        except GoogleStatus:
            return None

    def patch(
        self,
        calendar_id: str,
        event_id: str,
        body: Event,
        *,
        etag: str | None = None,
        expect: tuple[int, ...] = (),
    ) -> Event:
        """Patch the fields of `body`; with `etag`, only that version (EventChanged if not)."""
        fields = {k: v for k, v in body.items() if k not in ("id", "eventType")}
        request = self.events.patch(
            calendarId=calendar_id, eventId=event_id, body=fields, sendUpdates="none"
        )
        try:
            event: Event = self._run(_if_match(request, etag), expect=(*expect, 412))
        except GoogleStatus as exc:
            if exc.status != 412:
                raise
            now = self.get(calendar_id, event_id)
            if now is None or not _says(now, body):
                raise changed_since_read(event_id) from None
            return now  # an earlier attempt of this same patch landed
        return event

    def delete(self, calendar_id: str, event_id: str, etag: str | None = None) -> None:
        """Delete (only the version `etag`, when given); an event already deleted (410) or
        gone (404) counts as done."""
        request = self.events.delete(calendarId=calendar_id, eventId=event_id, sendUpdates="none")
        try:
            self._run(_if_match(request, etag), expect=(404, 410, 412))
        except GoogleStatus as exc:
            if exc.status != 412:
                return
            now = self.get(calendar_id, event_id)
            if now is not None and now.get("status") != "cancelled":
                raise changed_since_read(event_id) from None


def _if_match(request: Any, etag: str | None) -> Any:
    """A conditional write: googleapiclient sends the request object's headers as they are."""
    if etag:
        request.headers["If-Match"] = etag
    return request


def _says(event: Event, body: Event) -> bool:
    """Whether `event` already holds what `body` asks for (status included)."""
    wanted = view_of({**event, **body})
    return same(view_of(event), wanted) and event.get("status") == wanted["status"]


def _refusal(exc: GoogleStatus, body: Event) -> Exception:
    if body.get("eventType") == "focusTime":
        return FocusTimeRefused(exc.message or exc.reason)
    return PermanentError(
        f"Google refused the block ({exc.status} {exc.reason}: {exc.message})", SURFACE
    )
