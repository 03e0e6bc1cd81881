"""Google Calendar focus-time blocks for the prep day, idempotent, never duplicated.

Items are the theme's `[[calendar.blocks]]`, keyed by block id. Each block is one event with a
deterministic base32hex id (from the theme id, the block id and the event type) and neutral
private extended properties that mark it as a block: `tag=time-block` and opaque keyed hashes of
the theme and the block (events.py), so nothing on the calendar names aligner, the theme or the
company. One `events.list` filtered on that mark (deleted events included) reads every block
aligner owns; a block is the event whose hash matches the theme key and its block key, or the
event aligner last wrote for it.

Blocks created by releases before the neutral marks carry `aligner=calendar-block` and the theme
and block ids in clear text. They are still found, owned, updated and given back: while the store
holds a record that may point at such an event (`legacy_possible`: an active record, or one with
a write in flight, whose stored value lacks the neutral mark's version), `read` also lists that
old mark (one more call). Once every such record is written again, given back or released, no run
makes that call. A legacy event keeps its old marks until aligner gives it back (an update adds
the neutral ones beside them: Google's patch merges extended properties).

Blocks are created on the first apply at any time before they start; a block that has started
is left as it is. See `calendar_diff` for the rules and `calendar_api` for the calls.

With `[calendar] provider = "microsoft"` `connect` returns `OutlookBlocks` (outlook.py): the
same blocks and rules on Outlook through Microsoft Graph; the pure classmethods here serve both.

Focus time needs an eligible Workspace account and the primary calendar. When Google refuses it
(400) or quietly stores a plain event instead, the block becomes a plain busy event and the
fallback is remembered in the store (item `_account`), so later plans do not fight it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aligner.core.doctor import Check
from aligner.core.model import Action, Change, Json, Record
from aligner.errors import ConfigError, PermanentError
from aligner.state.settings import Settings
from aligner.surfaces.base import Account, DiffContext, Finding, Ledger, Surface
from aligner.surfaces.calendar.checks import calendar_findings
from aligner.surfaces.calendar.diff import BlockPlanner, BlockWrite
from aligner.surfaces.calendar.events import (
    BUSY,
    FOCUS,
    MARK_VERSION,
    NAME,
    FocusTimeRefused,
    as_busy,
    block_token,
    block_view,
    calendar_section,
    describe,
    event_body,
    event_id,
    is_live,
    managed,
    moment,
    on_outlook,
    view_of,
)
from aligner.surfaces.calendar.outlook_events import TITLE as OUTLOOK_TITLE
from aligner.surfaces.calendar.section import CalendarSection
from aligner.theme.schema import ThemeConfig
from aligner.vendors.google.account import GOOGLE
from aligner.vendors.google.scopes import CALENDAR_EVENTS
from aligner.vendors.google.settings import GoogleSettings
from aligner.vendors.microsoft.account import MICROSOFT
from aligner.vendors.microsoft.scopes import CALENDARS

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed
    from aligner.surfaces.calendar.api import CalendarApi

ACCOUNT = "account"  # what the surface remembers of this account: does focus time stick?
GENERATIONS = 4  # a deleted id Google will not bring back is replaced by the next one


def block_keys(config: ThemeConfig) -> list[str]:
    return [block.key for block in calendar_section(config).blocks]


def fallback_of(memory: Mapping[str, Json], calendar_id: str) -> dict[str, Any] | None:
    """What aligner remembered about focus time on this calendar, when it does not stick."""
    account = memory.get(ACCOUNT)
    info = account.get("focus_time") if isinstance(account, dict) else None
    if isinstance(info, dict) and info.get("calendar") == calendar_id:
        return info
    return None


class CalendarBlocks(Surface):
    name = NAME
    title = "Google Calendar blocks"
    section = CalendarSection
    # `[calendar] provider` chooses the account (see outlook.py for Microsoft)
    accounts: ClassVar[tuple[Account, ...]] = (GOOGLE, MICROSOFT)
    scopes = (CALENDAR_EVENTS,)
    parallel_writes = 8  # blocks are independent: each has its own key, ids and pending intent

    def __init__(self, api: CalendarApi) -> None:
        self.api = api

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def account(cls, config: ThemeConfig) -> Account:
        return MICROSOFT if on_outlook(config) else GOOGLE

    @classmethod
    def needed_scopes(cls, config: ThemeConfig) -> tuple[str, ...]:
        return (CALENDARS,) if on_outlook(config) else (CALENDAR_EVENTS,)

    @classmethod
    def title_for(cls, config: ThemeConfig) -> str:
        return OUTLOOK_TITLE if on_outlook(config) else cls.title

    @classmethod
    def enabling(cls, account: Account) -> str:
        return (
            '[calendar] provider = "microsoft"'
            if account is MICROSOFT
            else super().enabling(account)
        )

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        return calendar_findings(config)

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        """Every block of the theme (whether it has started is the diff's business)."""
        if not calendar_section(config).enabled:
            return {}
        views = {
            block.key: block_view(config, index, block)
            for index, block in enumerate(calendar_section(config).blocks)
        }
        if on_outlook(config):
            from aligner.surfaces.calendar.outlook_events import outlook_view

            return {key: outlook_view(view) for key, view in views.items()}
        return views

    @classmethod
    def idle(
        cls,
        config: ThemeConfig,
        now: datetime,
        records: Mapping[str, Record],
        *,
        giving_back: bool = False,
    ) -> bool:
        """Blocks are due as soon as they can be created: busy while one has yet to start."""
        if any(record.active for record in records.values()):
            return False
        if giving_back:
            return True
        try:
            views = cls.desired(config, now)
        except ConfigError:
            return False
        return all(moment(view["start"]) <= now for view in views.values())

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        found = []
        for index, block in enumerate(calendar_section(config).blocks):
            try:
                view = block_view(config, index, block)
            except ConfigError:
                continue
            found.append((moment(view["start"]), f"calendar block “{view['title']}” starts"))
        return found

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.calendar.preview import preview

        return preview(config, now)

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        from aligner.surfaces.calendar.doctor import calendar_checks

        yield from calendar_checks(settings, config)

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        """Both providers: the Google calendar and the Outlook one (Graph), each seeded."""
        from aligner.sandbox.google.calendar.service import seeded_calendar
        from aligner.sandbox.google.common import EMAIL, grant_sandbox_scopes, seed_account
        from aligner.sandbox.microsoft.calendar import seeded_outlook_calendar
        from aligner.sandbox.microsoft.common import grant_sandbox_scopes as grant_graph
        from aligner.sandbox.microsoft.common import seed_account as seed_graph

        accounts = seed_account(box)
        grant_sandbox_scopes(accounts, CALENDAR_EVENTS)
        box.add(seeded_calendar(accounts, box.clock, EMAIL))
        directory = seed_graph(box)
        grant_graph(directory, CALENDARS)
        box.add(seeded_outlook_calendar(directory, box.clock))

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> CalendarBlocks:
        if on_outlook(config):
            from aligner.surfaces.calendar.outlook import OutlookBlocks

            return OutlookBlocks.connect(settings, config)
        from aligner.surfaces.calendar.api import CalendarApi
        from aligner.vendors.google.client import build_service

        google = settings.part(GoogleSettings)

        def make() -> Any:
            return build_service(google, "calendar", "v3", cls.name, cls.scopes)

        return cls(CalendarApi(make(), make))

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        """One events.list: each block's event (live preferred), None where there is none."""
        calendar_id = calendar_section(config).calendar_id
        try:
            legacy = legacy_possible(records)
            events = [view_of(e) for e in self.api.owned(calendar_id, legacy=legacy)]
        finally:
            self.api.close()
        summary = getattr(self.api, "summary", None)
        self.account_email = str(summary).lower() if calendar_id == "primary" and summary else None
        keys = block_keys(config) + [k for k in records if k not in block_keys(config)]
        return {
            key: _event_for(key, events, config.theme.key, records.get(key))
            for key in keys
            if not key.startswith("_")
        }

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        config = ctx.config
        fallback = fallback_of(ctx.memory, calendar_section(config).calendar_id)
        planner = BlockPlanner(
            self.name,
            ctx.now,
            config.zone,
            ctx.force,
            fallback is not None,
            calendar_section(config).calendar_id,
        )
        keys = list(desired) + sorted(k for k in current if k not in desired)
        changes: list[Change] = []
        for key in keys:
            want = None if ctx.revert else desired.get(key)
            record = ctx.records.get(key)
            if _elsewhere(record, calendar_section(config).calendar_id):
                changes += _left_on_old_calendar(self.name, key, record)
                record = None
            changes += planner.plan(key, want, current.get(key), record)
        wants_focus = calendar_section(config).event_type == FOCUS and not ctx.revert
        upcoming = any(not planner.started(w, None, None) for w in desired.values())
        if fallback and wants_focus and upcoming:
            changes.insert(0, _fallback_notice(self.name, fallback))
        if not changes and desired and not upcoming and not ctx.revert:
            changes.append(_all_started_notice(self.name, len(desired)))
        return changes

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        try:
            return self._apply(config, change, ledger)
        finally:
            self.api.close()

    def _apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        write = _write_of(change)
        calendar_id = calendar_section(config).calendar_id
        if write.op in ("delete", "replace"):
            key_id = str(write.event_id if write.op == "delete" else write.old_id)
            self._delete(config, change.key, key_id, ledger, write.etag)
            if write.op == "delete":
                return {"id": key_id, "status": "cancelled", "calendar": calendar_id}
        return {**self._write(config, change, ledger), "calendar": calendar_id}

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The Google account: the primary calendar's summary (its email), from the read."""
        found: str | None = getattr(self, "account_email", None)
        return found

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"Google account {account}"

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        live = [v for v in current.values() if is_live(v)]
        live.sort(key=lambda v: str(v["start"]))
        return [describe(v, config.zone, utc=False) for v in live] or ["(no blocks)"]

    # -- writes ----------------------------------------------------------------------------

    def _write(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        calendar_id, key, write = (
            calendar_section(config).calendar_id,
            change.key,
            _write_of(change),
        )
        op = write.op
        view = dict(change.after)
        if op != "update" and view["type"] == FOCUS and _remembered(ledger, calendar_id):
            view = as_busy(view)  # learnt earlier in this same run
        self._pending(ledger, key, view)
        body = event_body(view, config, key)
        if op == "update":
            event = self.api.patch(calendar_id, str(write.event_id), body, etag=write.etag)
        elif op == "revive":
            revived = self.api.revive(calendar_id, str(write.event_id), body, etag=write.etag)
            event = revived or self._create(config, key, view, ledger)
        else:
            event = self._create(config, key, view, ledger)
        stored = view_of(event)
        if (
            view["type"] == FOCUS
            and stored["type"] != FOCUS
            and not _remembered(ledger, calendar_id)
        ):
            _remember(ledger, calendar_id, "stored-as-default", "Google kept it as a plain event")
        ledger.save_extra(key, {"pending": None, "deleted": None})
        return {**stored, "asked": managed(view)}  # Google may normalise what it was given

    def _create(self, config: ThemeConfig, key: str, view: Json, ledger: Ledger) -> Any:
        calendar_id = calendar_section(config).calendar_id
        try:
            return self.api.create(
                calendar_id, event_body(view, config, key), _ids(config, key, view["type"])
            )
        except FocusTimeRefused as refusal:
            busy = as_busy(view)
            self._pending(ledger, key, busy)
            event = self.api.create(
                calendar_id, event_body(busy, config, key), _ids(config, key, BUSY)
            )
            _remember(ledger, calendar_id, "refused", refusal.message)
            return event

    def _delete(
        self, config: ThemeConfig, key: str, event: str, ledger: Ledger, etag: str | None
    ) -> None:
        ledger.save_extra(key, {"pending": {"op": "delete", "id": event}})
        self.api.delete(calendar_section(config).calendar_id, event, etag)
        ledger.save_extra(key, {"pending": None, "deleted": event})

    @staticmethod
    def _pending(ledger: Ledger, key: str, view: Json) -> None:
        pending = {"op": "write", "view": managed(view), "mark": MARK_VERSION}
        ledger.save_extra(key, {"pending": pending})


def _write_of(change: Change) -> BlockWrite:
    if not isinstance(change.payload, BlockWrite):
        raise PermanentError(f"calendar cannot {change.action} {change.key} without a plan", NAME)
    return change.payload


def _ids(config: ThemeConfig, key: str, kind: str) -> list[str]:
    return [event_id(config.theme.key, key, kind, g) for g in range(GENERATIONS)]


def legacy_possible(records: Mapping[str, Record]) -> bool:
    """Whether an event marked the way releases before the neutral marks did may still be one
    aligner looks after: a record that is active or has a write in flight, and whose stored
    value (or, with none yet, whose write in flight) was not made with the neutral marks."""
    for key, record in records.items():
        if key.startswith("_"):
            continue
        pending = record.extra.get("pending") or {}
        if not record.active and not pending:
            continue
        applied = record.applied
        if isinstance(applied, dict) and applied.get("mark") == MARK_VERSION:
            continue
        if applied is None and pending.get("mark") == MARK_VERSION:
            continue
        return True
    return False


def _event_for(
    key: str, events: list[dict[str, Json]], theme_key: str, record: Record | None
) -> Json:
    """The event that is this block: the one aligner last wrote, else one marked with its
    opaque block token (computed from the theme key and this block key: the token holds both)."""
    known = set()
    if record is not None and isinstance(record.applied, dict):
        known.add(record.applied.get("id"))
    token = block_token(theme_key, key)
    mine = [e for e in events if e["id"] in known or e.get("block") == token]
    mine.sort(key=lambda e: (not is_live(e), e["id"] not in known))
    return mine[0] if mine else None


def _elsewhere(record: Record | None, calendar_id: str) -> bool:
    """Whether aligner wrote this block on another calendar (calendar_id has changed since)."""
    applied = record.applied if record is not None else None
    return isinstance(applied, dict) and applied.get("calendar", calendar_id) != calendar_id


def _left_on_old_calendar(surface: str, key: str, record: Record | None) -> list[Change]:
    if record is None or not record.active:
        return []
    where = f"calendar “{record.applied['calendar']}” (calendar_id changed)"
    if str(record.applied["calendar"]).startswith("outlook:"):
        where = "the Outlook calendar (provider changed)"
    return [
        Change(
            surface,
            key,
            Action.RELEASE,
            managed(record.applied),
            None,
            f"its event is on {where}; left there as it is",
            writes=False,
            ownership="released",
        )
    ]


def _remembered(ledger: Ledger, calendar_id: str) -> bool:
    return fallback_of({ACCOUNT: ledger.recall(ACCOUNT)}, calendar_id) is not None


def _remember(ledger: Ledger, calendar_id: str, reason: str, message: str) -> None:
    info = {"calendar": calendar_id, "reason": reason, "message": message}
    ledger.remember(ACCOUNT, {"focus_time": info})
    ledger.say(_fallback_notice("calendar", info).summary)  # once: later plans show the notice


def _all_started_notice(surface: str, count: int) -> Change:
    """Why the plan has nothing for the calendar, which is not obvious in the middle of a window:
    a notice with no key is the plan's explanation of "no changes"."""
    blocks = "the block has" if count == 1 else f"all {count} blocks have"
    return Change(
        surface,
        "",
        Action.NOTICE,
        None,
        None,
        f"{blocks} already started; started blocks are left as they are",
        writes=False,
        ownership="keep",
    )


def _fallback_notice(surface: str, info: Mapping[str, Any]) -> Change:
    why = (
        f"Google refused focus time here (“{info.get('message')}”)"
        if info.get("reason") == "refused"
        else "Google stored focus time here as plain events"
    )
    return Change(
        surface,
        "focus-time",
        Action.NOTICE,
        None,
        None,
        f"{why}: this account has no focus time (it needs an eligible Workspace account and "
        "the primary calendar), so the blocks are plain busy events with the same titles and "
        "times",
        writes=False,
        ownership="keep",
    )
