"""The records that flow from diff to plan output, to apply, to the journal.

One `Change` is what `plan` prints, what `apply` executes and what the journal records, so a
preview can never disagree with what runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

Json = Any


class Action(StrEnum):
    """What a change does. Writes: set, update, create, replace, delete, restore, draft, send,
    record. Notices (writes=False): conflict, release, adopt, notice."""

    SET = "set"
    UPDATE = "update"
    CREATE = "create"
    REPLACE = "replace"
    DELETE = "delete"
    RESTORE = "restore"
    DRAFT = "draft"
    SEND = "send"
    RECORD = "record"
    CONFLICT = "conflict"
    RELEASE = "release"
    ADOPT = "adopt"
    NOTICE = "notice"


Ownership = Literal["keep", "active", "restored", "released"]
Phase = Literal["before", "during", "after"]


class Payload:
    """Base of a surface's own typed details of a change (the engine never looks inside)."""


@dataclass(frozen=True)
class Change:
    """One thing a surface should do (or a notice about it, when `writes` is False)."""

    surface: str
    key: str
    action: Action
    before: Json
    after: Json
    summary: str
    writes: bool = True
    ownership: Ownership = "active"
    payload: Payload | None = None
    preview: tuple[str, ...] = ()  # lines showing the change as a person reads it

    @property
    def is_conflict(self) -> bool:
        return self.action is Action.CONFLICT

    def to_json(self) -> dict[str, Json]:
        return {
            "surface": self.surface,
            "key": self.key,
            "action": self.action,
            "before": self.before,
            "after": self.after,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Record:
    """What the state store remembers about one item aligner owns on a surface."""

    surface: str
    key: str
    snapshot: Json  # the original, captured before aligner's first write
    applied: Json  # what the surface showed right after aligner's last write
    state: Literal["active", "restored", "released"]
    extra: Mapping[str, Json]
    updated_at: datetime | None = None
    written: bool = True  # False while no write has succeeded since the snapshot

    @property
    def active(self) -> bool:
        return self.state == "active"


@dataclass(frozen=True)
class SurfacePlan:
    surface: str
    title: str
    changes: tuple[Change, ...] = ()
    error: str | None = None
    account: str | None = None  # who the surface acted as in this run (`Surface.account_id`)
    adopted: str | None = None  # the account whose records this run forgets (a new account)

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.writes)

    @property
    def notices(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if not c.writes)


@dataclass(frozen=True)
class Plan:
    at: datetime
    phase: Phase
    surfaces: tuple[SurfacePlan, ...]
    reverted_at: str | None = None  # set while an `aligner revert` is in force

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for s in self.surfaces for c in s.writes)

    @property
    def notices(self) -> tuple[Change, ...]:
        return tuple(c for s in self.surfaces for c in s.notices)

    @property
    def errors(self) -> dict[str, str]:
        return {s.surface: s.error for s in self.surfaces if s.error}

    def to_json(self) -> dict[str, Json]:
        return {
            "at": self.at.isoformat(),
            "phase": self.phase,
            "changes": [c.to_json() for c in self.changes],
            "notices": [c.to_json() for c in self.notices],
            "errors": self.errors,
            "reverted_at": self.reverted_at,
        }


@dataclass(frozen=True)
class Outcome:
    """The result of executing (or failing to execute) one change."""

    change: Change
    ok: bool
    detail: str = ""
    auth_failed: bool = False  # credentials failed: the surface's other changes are skipped
    notes: tuple[str, ...] = ()  # what the surface learnt while writing, for the person


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    outcomes: tuple[Outcome, ...]

    @property
    def failed(self) -> dict[str, str]:
        failures = dict(self.plan.errors)
        for outcome in self.outcomes:
            if not outcome.ok:
                failures.setdefault(outcome.change.surface, outcome.detail)
        return failures

    @property
    def written(self) -> tuple[Change, ...]:
        return tuple(o.change for o in self.outcomes if o.ok and o.change.writes)
