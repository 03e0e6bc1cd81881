"""Outlook calendar blocks through Microsoft Graph (`[calendar] provider = "microsoft"`).

The same `[[calendar.blocks]]` and the same rules as the Google calendar (surface.py and
diff.py): every block is created before it starts and exactly once, a block that has started is
left as it is, a block a person changed or deleted is theirs (reported, `--force` re-asserts),
and blocks not yet started are given back (deleted) when the theme drops them or is reverted.
Only the wire differs (outlook_api.py, outlook_events.py):

- Outlook has no focus time: every block is a busy event (`showAs: "busy"`), private
  (`sensitivity: "private"`) when the block is. `auto_decline`, `decline_message` and
  `chat_status` are Google's and do nothing here (validate says so when the theme sets them).
- Blocks go on the person's default calendar; `calendar_id` is Google's.
- Each create carries a `transactionId` derived from the theme id, the block id and how many
  times this block was created (kept in the store with the pending write), so a create retried
  after a lost answer sends the same one (see outlook_api.py for what Graph promises).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aligner.core.model import Action, Change, Json, Record
from aligner.state.settings import Settings
from aligner.surfaces.base import DiffContext, Ledger
from aligner.surfaces.calendar.diff import BlockPlanner
from aligner.surfaces.calendar.events import describe, is_live, managed
from aligner.surfaces.calendar.outlook_events import (
    LABELS,
    TITLE,
    key_value,
    outlook_body,
    outlook_view_of,
    transaction_id,
)
from aligner.surfaces.calendar.surface import (
    CalendarBlocks,
    _all_started_notice,
    _event_for,
    _write_of,
    block_keys,
)
from aligner.theme.schema import ThemeConfig
from aligner.vendors.microsoft.account import MICROSOFT
from aligner.vendors.microsoft.scopes import CALENDARS

if TYPE_CHECKING:
    from aligner.surfaces.calendar.outlook_api import OutlookApi

OUTLOOK_CALENDAR = "outlook:default"  # where aligner's Outlook blocks are (in what it stores)


class OutlookBlocks(CalendarBlocks):
    """What `CalendarBlocks.connect` returns when the theme's provider is "microsoft"."""

    title = TITLE
    accounts = (MICROSOFT,)
    scopes = (CALENDARS,)
    parallel_writes = 8  # blocks are independent; the one client's small pool serves them

    def __init__(self, api: OutlookApi) -> None:
        self.outlook = api
        self.account_email: str | None = None

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> OutlookBlocks:
        from aligner.surfaces.calendar.outlook_api import OutlookApi
        from aligner.vendors.microsoft.settings import MicrosoftSettings
        from aligner.vendors.microsoft.token import graph_for

        graph = graph_for(settings.part(MicrosoftSettings), cls.scopes, cls.name)
        return cls(OutlookApi(graph))

    # -- I/O -------------------------------------------------------------------------------

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        """One filtered list (a call per page): each block's event, None where there is none."""
        events = [outlook_view_of(e) for e in self.outlook.owned()]
        self.account_email = self.outlook.owner
        keys = block_keys(config) + [k for k in records if k not in block_keys(config)]
        return {
            key: _event_for(key, events, config.theme.key, records.get(key))
            for key in keys
            if not key.startswith("_")
        }

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        planner = BlockPlanner(
            self.name, ctx.now, ctx.config.zone, ctx.force, False, OUTLOOK_CALENDAR, LABELS
        )
        keys = list(desired) + sorted(k for k in current if k not in desired)
        changes: list[Change] = []
        for key in keys:
            want = None if ctx.revert else desired.get(key)
            record = ctx.records.get(key)
            if _on_google(record):
                changes += _left_on_google(self.name, key, record)
                record = None
            changes += planner.plan(key, want, current.get(key), record)
        upcoming = any(not planner.started(w, None, None) for w in desired.values())
        if not changes and desired and not upcoming and not ctx.revert:
            changes.append(_all_started_notice(self.name, len(desired)))
        return changes

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        write = _write_of(change)
        key = change.key
        if write.op in ("delete", "replace"):
            event_id = str(write.event_id if write.op == "delete" else write.old_id)
            ledger.save_extra(key, {"pending": {"op": "delete", "id": event_id}})
            self.outlook.delete(event_id, write.etag)
            ledger.save_extra(key, {"pending": None, "deleted": event_id})
            if write.op == "delete":
                return {"id": event_id, "status": "cancelled", "calendar": OUTLOOK_CALENDAR}
        view = dict(change.after)
        if write.op == "update":
            ledger.save_extra(key, {"pending": {"op": "write", "view": managed(view)}})
            body = outlook_body(view, config, key)
            event = self.outlook.patch(str(write.event_id), body, etag=write.etag)
        else:
            transaction = self._transaction(config, key, view, ledger)
            body = outlook_body(view, config, key, transaction)
            event = self.outlook.create(body, key_value(config.theme.key, key))
        ledger.save_extra(key, {"pending": None, "deleted": None})
        stored = outlook_view_of(event)
        return {**stored, "asked": managed(view), "calendar": OUTLOOK_CALENDAR}

    @staticmethod
    def _transaction(config: ThemeConfig, key: str, view: Json, ledger: Ledger) -> str:
        """The create's transactionId: the one of an unanswered create of the same block, else
        a fresh one (this block's next generation). Saved before the POST."""
        record = ledger.record(key)
        extra = record.extra if record is not None else {}
        pending = extra.get("pending") or {}
        if pending.get("op") == "write" and pending.get("transaction"):
            transaction = str(pending["transaction"])
            generation = int(extra.get("creates") or 0)
        else:
            generation = int(extra.get("creates") or 0) + 1
            transaction = transaction_id(config.theme.key, key, generation)
        ledger.save_extra(
            key,
            {
                "pending": {"op": "write", "view": managed(view), "transaction": transaction},
                "creates": generation,
            },
        )
        return transaction

    def close(self) -> None:
        """The session is over: the run's one Graph connection (read and writes) is closed."""
        self.outlook.close()

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The calendar's owner: the organizer of the blocks the read listed (no extra call);
        None while there is no block to tell."""
        return self.account_email

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"Microsoft 365 account {account}"

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        live = [v for v in current.values() if is_live(v)]
        live.sort(key=lambda v: str(v["start"]))
        return [describe(v, config.zone, utc=False) for v in live] or ["(no blocks)"]


def _on_google(record: Record | None) -> bool:
    """Whether aligner wrote this block on Google Calendar (the provider has changed since)."""
    applied = record.applied if record is not None else None
    return (
        isinstance(applied, dict) and applied.get("calendar", OUTLOOK_CALENDAR) != OUTLOOK_CALENDAR
    )


def _left_on_google(surface: str, key: str, record: Record | None) -> list[Change]:
    if record is None or not record.active:
        return []
    return [
        Change(
            surface,
            key,
            Action.RELEASE,
            managed(record.applied),
            None,
            "its event is on Google Calendar (provider changed); left there as it is",
            writes=False,
            ownership="released",
        )
    ]
