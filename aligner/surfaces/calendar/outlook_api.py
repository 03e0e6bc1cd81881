"""The Microsoft Graph calls the Outlook calendar blocks make, over one Graph client per run.

- `owned`: every block in one filtered list (`GET /me/events?$filter=singleValueExtendedProperties/
  Any(...)&$expand=singleValueExtendedProperties($filter=...)`), following `@odata.nextLink`
  (https://learn.microsoft.com/en-us/graph/api/singlevaluelegacyextendedproperty-get,
  https://learn.microsoft.com/en-us/graph/paging).
- `create`: `POST /me/calendar/events` (https://learn.microsoft.com/en-us/graph/api/calendar-post-events)
  carrying a `transactionId`. What Graph promises about it is one sentence of the event resource
  (https://learn.microsoft.com/en-us/graph/api/resources/event): "A custom identifier specified
  by a client app for the server to avoid redundant POST operations in case of client retries to
  create the same event ... After you set transactionId when creating an event, you can't change
  transactionId in a subsequent update. This property is only returned in a response payload if
  an app has set it." No time window and no answer shape are documented. So aligner does not
  lean on it alone: when a create's answer is lost, it first asks Graph for the block (one
  filtered GET on the block's own mark) and only when none is there sends the same POST again,
  with the same transactionId, which Graph should then also recognise.
- `patch` and `delete`: `PATCH|DELETE /me/events/{id}` (https://learn.microsoft.com/en-us/graph/api/event-update,
  https://learn.microsoft.com/en-us/graph/api/event-delete) with `If-Match: <@odata.etag>` read in
  this run. Graph does not document If-Match for events; Exchange honours it with the item's
  change key and answers 412 `ErrorIrresolvableConflict` when the event changed (reported:
  https://github.com/mguessan/davmail/issues/491). A 412 means a person changed the event between
  the read and the write: aligner writes nothing and says so (`EventChanged`), unless the event
  already says what aligner asked (its own earlier attempt, whose answer was lost, landed).
  A delete that meets 404 is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from aligner.errors import PermanentError, TransientError
from aligner.surfaces.calendar.api import changed_since_read
from aligner.surfaces.calendar.events import same
from aligner.surfaces.calendar.outlook_events import (
    KEY_ID,
    MARK_ID,
    MARK_VALUE,
    organizer_of,
    outlook_view_of,
    patch_body,
)
from aligner.vendors.microsoft.errors import GraphNotFound, GraphPreconditionFailed

SURFACE = "calendar"
PAGE_SIZE = 100
TEXT_BODY = {"Prefer": 'outlook.body-content-type="text"'}
Event = dict[str, Any]


def _quoted(text: str) -> str:
    """An OData string literal's content: a single quote is doubled."""
    return text.replace("'", "''")


def mark_filter(prop_id: str, value: str) -> str:
    return (
        f"singleValueExtendedProperties/Any(ep: ep/id eq '{_quoted(prop_id)}' "
        f"and ep/value eq '{_quoted(value)}')"
    )


EXPAND = f"singleValueExtendedProperties($filter=id eq '{_quoted(KEY_ID)}')"


class OutlookApi:
    """Calendar calls over one `Graph` client (httpx: one pooled connection, thread-safe)."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.owner: str | None = None  # the organizer of the blocks last listed

    def close(self) -> None:
        """The run is over: close the one connection every call of the run shared."""
        self.graph.close()

    # -- reads -------------------------------------------------------------------------------

    def owned(self) -> Iterator[Event]:
        """Every event aligner marked on the person's calendars (one call a page)."""
        yield from self._listed(mark_filter(MARK_ID, MARK_VALUE))

    def find(self, key: str) -> list[Event]:
        """The events marked as block `key` (its opaque token, `key_value`)."""
        return list(self._listed(mark_filter(KEY_ID, key)))

    def _listed(self, where: str) -> Iterator[Event]:
        params: dict[str, str] | None = {
            "$filter": where,
            "$expand": EXPAND,
            "$top": str(PAGE_SIZE),
        }
        path = "me/events"
        while True:
            page = self.graph.get(path, params, headers=TEXT_BODY).json()
            for event in page.get("value") or []:
                if isinstance(event, dict):
                    self.owner = self.owner or organizer_of(event)
                    yield event
            link = page.get("@odata.nextLink")
            if not link:
                return
            path, params = self._relative(str(link)), None

    def _relative(self, link: str) -> str:
        """A next link is an absolute URL on the same Graph endpoint (the token goes nowhere
        else)."""
        base = str(self.graph.base_url)
        if not link.startswith(base):
            raise PermanentError(
                f"Microsoft Graph sent a next page on another host ({link.split('?')[0]})",
                SURFACE,
            )
        return link[len(base) :]

    def get(self, event_id: str) -> Event | None:
        try:
            answer = self.graph.get(_item(event_id), {"$expand": EXPAND}, headers=TEXT_BODY)
        except GraphNotFound:
            return None
        event: Event = answer.json()
        return event

    # -- writes ------------------------------------------------------------------------------

    def create(self, body: Event, key: str) -> Event:
        """POST the event; after a lost answer, ask Graph for the block before posting again
        (with the same transactionId). The block found is brought to `body` if it differs."""
        try:
            return self._post(body)
        except TransientError as exc:
            if exc.answered:
                raise
        found = self.find(key)
        if found:
            return self.reconcile(found[0], body)
        return self._post(body)

    def _post(self, body: Event) -> Event:
        # a 429/503 answer was refused before any work: resent after Retry-After (and the
        # transactionId would catch a duplicate anyway)
        answer = self.graph.post("me/calendar/events", body)
        event: Event = answer.json()
        if not event.get("singleValueExtendedProperties"):
            event["singleValueExtendedProperties"] = [
                p for p in body.get("singleValueExtendedProperties") or [] if p["id"] == KEY_ID
            ]
        return event

    def reconcile(self, existing: Event, body: Event) -> Event:
        """An event already there for this block: update it only where it differs."""
        if _says(existing, body):
            return existing
        return self.patch(str(existing["id"]), body, etag=existing.get("@odata.etag"))

    def patch(self, event_id: str, body: Event, *, etag: str | None = None) -> Event:
        """Update the fields of `body`; with `etag`, only that version (EventChanged if not)."""
        fields = patch_body(outlook_view_of(body)) if "subject" in body else body
        headers = {"If-Match": etag} if etag else None
        try:
            answer = self.graph.patch(_item(event_id), fields, headers=headers)
        except GraphPreconditionFailed:
            now = self.get(event_id)
            if now is None or not _says(now, body):
                raise changed_since_read(event_id) from None
            return now  # an earlier attempt of this same update landed
        except TransientError as exc:
            if exc.answered:
                raise
            now = self.get(event_id)  # the answer was lost: did the update land?
            if now is None or not _says(now, body):
                raise
            return now
        event: Event = answer.json()
        return self._with_key(event, body)

    def delete(self, event_id: str, etag: str | None = None) -> None:
        """Delete (only the version `etag`, when given); an event already gone counts as done."""
        headers = {"If-Match": etag} if etag else None
        try:
            self.graph.delete(_item(event_id), headers=headers)
        except GraphNotFound:
            return
        except GraphPreconditionFailed:
            if self.get(event_id) is not None:
                raise changed_since_read(event_id) from None
        except TransientError as exc:
            if exc.answered or self.get(event_id) is not None:
                raise

    def _with_key(self, event: Event, body: Event) -> Event:
        if event.get("singleValueExtendedProperties"):
            return event
        keys = [p for p in body.get("singleValueExtendedProperties") or [] if p["id"] == KEY_ID]
        return {**event, "singleValueExtendedProperties": keys} if keys else event


def _item(event_id: str) -> str:
    """An event's path; Graph ids are base64 and may carry characters a path must escape."""
    return "me/events/" + quote(event_id, safe="")


def _says(event: Event, body: Event) -> bool:
    """Whether `event` already holds what `body` asks for."""
    return same(outlook_view_of(event), outlook_view_of({**event, **body}))
