"""One block's plan: its desired view, its event on the calendar and aligner's record → changes.

- A block that has started is history: left as it is, its record released.
- Missing → create (a cancelled event of the same type is brought back under its id).
- A different event type → replace: delete and create (Google cannot change a type in place).
- Different fields → update the same event.
- Gone from the theme (or `revert`) → delete.
- Humans win: when the event is no longer as aligner left it (moved, edited or deleted by a
  person), that is a conflict, reported and left alone; `--force` re-asserts. "As aligner left
  it" means: the etag aligner recorded at its last write, or the same fields as that write, or the
  write aligner had started (`Record.extra["pending"]`) when an answer was lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from aligner.core.model import Action, Change, Json, Ownership, Payload, Record
from aligner.surfaces.calendar.events import (
    FOCUS,
    as_busy,
    describe,
    is_live,
    managed,
    moment,
    preview,
    same,
)


def left_as_is(current: Json, record: Record | None) -> bool:
    """Whether the event is still what aligner last wrote (or deleted)."""
    if record is None:
        return True
    applied = record.applied if isinstance(record.applied, dict) else None
    pending = record.extra.get("pending") or {}
    if not is_live(current):
        gone = {
            record.extra.get("deleted"),
            pending.get("id") if pending.get("op") == "delete" else None,
        }
        ids = {(current or {}).get("id"), (applied or {}).get("id")}
        return not is_live(applied) or bool(gone & ids - {None})
    if applied is None and not pending:
        return True
    ours = applied is not None and is_live(applied) and current["id"] == applied.get("id")
    if ours and (current.get("etag") == (applied or {}).get("etag") or same(current, applied)):
        return True
    return pending.get("op") == "write" and managed(current) == pending.get("view")


def _as_google_keeps(target: Json, current: Json, record: Record | None) -> bool:
    """Whether Google stored `target`, as aligner last asked, in its own form: `current`."""
    applied = record.applied if record is not None else None
    if not isinstance(applied, dict) or applied.get("asked") != managed(target):
        return False
    return bool(current.get("etag") == applied.get("etag") and current["id"] == applied.get("id"))


def what_changed(expected: Json, current: Json) -> str:
    if not is_live(current):
        return "deleted"
    if not is_live(expected):
        return "changed"
    if (expected["start"], expected["end"]) != (current["start"], current["end"]):
        return "moved"
    return "renamed" if expected["title"] != current["title"] else "edited"


WriteOp = Literal["insert", "revive", "update", "replace", "delete"]


@dataclass(frozen=True)
class BlockWrite(Payload):
    """How a block's change is written: insert a new event, revive a deleted one, update it,
    replace it (delete `old_id`, then insert) or delete it. `etag` is the version of the event
    (`event_id` or `old_id`) this plan read: the write carries it as `If-Match`."""

    op: WriteOp
    event_id: str | None = None
    old_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class BlockPlanner:
    surface: str
    now: datetime
    zone: ZoneInfo
    force: bool
    fallback: bool  # focus time is known not to stick on this calendar: use busy events
    calendar_id: str = "primary"
    labels: Mapping[str, str] = field(default_factory=dict)  # the provider's field names

    def plan(self, key: str, want: Json, current: Json, record: Record | None) -> list[Change]:
        active = record is not None and record.active
        applied = record.applied if record is not None else None
        if self.started(want, current, applied):
            return [self._release(key, want or current or applied)] if active else []
        if want is None:
            return self._give_back(key, current, record) if record and active else []
        return self._assert(key, want, current, record if active else None)

    def started(self, want: Json, current: Json, applied: Json) -> bool:
        if want is not None:
            reference = want
        elif is_live(current):
            reference = current
        else:
            reference = applied if is_live(applied) else None
        return bool(reference and reference.get("start")) and moment(reference["start"]) <= self.now

    def target(self, want: Json, current: Json) -> Json:
        """The view to write: a busy block where focus time does not stick (and none is there)."""
        focus_there = is_live(current) and current["type"] == FOCUS
        if want["type"] == FOCUS and self.fallback and not focus_there:
            return as_busy(want)
        return want

    # -- during: make the calendar show the block --------------------------------------------

    def _assert(self, key: str, want: Json, current: Json, record: Record | None) -> list[Change]:
        target = self.target(want, current)
        hands_off = None
        if record is not None and not left_as_is(current, record) and not self.force:
            hands_off = self._conflict(key, record, current, release=False)
        if not is_live(current):
            return [hands_off or self._create(key, target, current)]
        if current["type"] != target["type"]:
            if hands_off:
                return [hands_off]
            return [
                self._change(
                    key,
                    Action.REPLACE,
                    current,
                    target,
                    f"delete and re-create (Google cannot change an event's type): "
                    f"{self._say(target)}",
                    op="replace",
                    old_id=current["id"],
                )
            ]
        if same(current, target) or _as_google_keeps(target, current, record):
            if record is not None:
                return []
            return [  # bookkeeping only: the store learns the event again, Google is not written
                Change(
                    self.surface,
                    key,
                    Action.ADOPT,
                    managed(current),
                    {**current, "calendar": self.calendar_id},
                    f"{self._say(current)} is already there; aligner looks after it again",
                    writes=False,
                )
            ]
        if hands_off:
            return [hands_off]
        return [
            self._change(
                key,
                Action.UPDATE,
                current,
                target,
                self._say(target),
                op="update",
                event_id=current["id"],
            )
        ]

    def _create(self, key: str, target: Json, current: Json) -> Change:
        if current is not None and current.get("type") == target["type"] and current.get("id"):
            summary = f"{self._say(target)} (bringing back the deleted event)"
            return self._change(
                key,
                Action.CREATE,
                None,
                target,
                summary,
                op="revive",
                event_id=current["id"],
                etag=current.get("etag"),
            )
        return self._change(key, Action.CREATE, None, target, self._say(target), op="insert")

    # -- after: give the time back -----------------------------------------------------------

    def _give_back(self, key: str, current: Json, record: Record) -> list[Change]:
        if not is_live(current):
            return [
                Change(
                    self.surface,
                    key,
                    Action.RELEASE,
                    managed(record.applied),
                    None,
                    "already gone from the calendar",
                    writes=False,
                    ownership="restored",
                )
            ]
        if not left_as_is(current, record) and not self.force:
            return [self._conflict(key, record, current, release=True)]
        return [
            self._change(
                key,
                Action.DELETE,
                current,
                None,
                self._say(current),
                ownership="restored",
                op="delete",
                event_id=current["id"],
            )
        ]

    def _release(self, key: str, view: Json) -> Change:
        start = moment(view["start"]).astimezone(self.zone) if view and view.get("start") else None
        when = f" at {start:%a %d %b %H:%M %Z}" if start else ""
        return Change(
            self.surface,
            key,
            Action.RELEASE,
            managed(view),
            None,
            f"started{when}; stays on the calendar as it is",
            writes=False,
            ownership="released",
        )

    # -- helpers -----------------------------------------------------------------------------

    def _conflict(self, key: str, record: Record, current: Json, *, release: bool) -> Change:
        expected = record.applied or (record.extra.get("pending") or {}).get("view")
        what = what_changed(expected, current)
        then = "not deleting it" if release else "leaving it (apply --force to re-assert)"
        shows = f": now {self._say(current)}" if is_live(current) else ""
        return Change(
            self.surface,
            key,
            Action.CONFLICT,
            managed(expected),
            managed(current),
            f"{what} by hand since aligner wrote it; {then}{shows}",
            writes=False,
            ownership="released" if release else "keep",
        )

    def _change(
        self,
        key: str,
        action: Action,
        before: Json,
        after: Json,
        summary: str,
        *,
        ownership: Ownership = "active",
        op: WriteOp,
        event_id: str | None = None,
        old_id: str | None = None,
        etag: str | None = None,
    ) -> Change:
        """A write; it carries the etag of the event it changes (`before`, as read)."""
        shown: tuple[str, ...] = ()
        if action in (Action.UPDATE, Action.REPLACE):
            shown = tuple(preview(before, after, self.zone, self.labels))
        return Change(
            self.surface,
            key,
            action,
            managed(before),
            managed(after),
            summary,
            ownership=ownership,
            payload=BlockWrite(op, event_id, old_id, etag or (before or {}).get("etag")),
            preview=shown,
        )

    def _say(self, view: Json) -> str:
        return describe(view, self.zone)
