"""The shared rule for a value aligner sets for a while and then gives back.

During the window: set the desired value (snapshotting the original first); after it (or on
revert): restore the snapshot, but only where the surface still shows what aligner last set.
Anything else is a person's edit: reported as a conflict and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aligner.core.model import Action, Change, Json, Record
from aligner.state.store import PENDING

Same = Callable[[Json, Json], bool]


@dataclass(frozen=True)
class OwnedValue:
    surface: str
    key: str
    same: Same
    describe: Callable[[Json], str]

    def diff(
        self,
        desired: Json,
        current: Json,
        record: Record | None,
        restore_to: Json,
        *,
        force: bool = False,
    ) -> list[Change]:
        """`desired` None means aligner should be absent; `restore_to` is the original."""
        active = record is not None and record.active
        if desired is not None:
            return self._assert(desired, current, record if active else None, force)
        if record is None or not active:
            return []
        return self._give_back(current, record, restore_to, force)

    def _assert(
        self, desired: Json, current: Json, record: Record | None, force: bool
    ) -> list[Change]:
        if record is not None and not record.written:
            return self._after_failed_write(desired, current)
        if self.same(current, desired):
            return []
        if record is not None and not self.same(current, record.applied) and not force:
            return [
                self.conflict(
                    current,
                    record.applied,
                    "changed by hand since aligner set it; leaving it (apply --force to re-assert)",
                    release=False,
                )
            ]
        action = Action.UPDATE if record is not None else Action.SET
        return [
            Change(
                self.surface,
                self.key,
                action,
                current,
                desired,
                f"{self.describe(current)} → {self.describe(desired)}",
            )
        ]

    def _after_failed_write(self, desired: Json, current: Json) -> list[Change]:
        """The last write failed (or its answer was lost): nothing a person did is at stake."""
        if self.same(current, desired):  # it went through after all: remember what it shows
            return [
                Change(
                    self.surface,
                    self.key,
                    Action.ADOPT,
                    current,
                    current,
                    "already shows the themed value",
                    writes=False,
                )
            ]
        return [
            Change(
                self.surface,
                self.key,
                Action.SET,
                current,
                desired,
                f"{self.describe(current)} → {self.describe(desired)}",
            )
        ]

    def _give_back(
        self, current: Json, record: Record, restore_to: Json, force: bool
    ) -> list[Change]:
        if self.same(current, restore_to):
            return [self._release(current, restore_to)]
        if not record.written and not force:
            if not self._shows_pending(current, record):
                why = "aligner's last write here failed, so it cannot tell its value from yours"
                return [self.conflict(current, record.snapshot, why, release=True)]
            # it shows what aligner's unanswered write was sending: that write went through
        elif not self.same(current, record.applied) and not force:
            why = "changed by hand since aligner set it; not restoring it"
            return [self.conflict(current, record.applied, why, release=True)]
        summary = f"{self.describe(current)} → {self.describe(restore_to)}"
        return [
            Change(
                self.surface,
                self.key,
                Action.RESTORE,
                current,
                restore_to,
                summary,
                ownership="restored",
            )
        ]

    def _shows_pending(self, current: Json, record: Record) -> bool:
        """The surface shows the value of aligner's last write, whose answer was lost."""
        pending = record.extra.get(PENDING)
        return pending is not None and self.same(current, pending)

    def _release(self, current: Json, restore_to: Json) -> Change:
        return Change(
            self.surface,
            self.key,
            Action.RELEASE,
            current,
            restore_to,
            "already back to the original",
            writes=False,
            ownership="restored",
        )

    def conflict(self, current: Json, expected: Json, why: str, *, release: bool) -> Change:
        return Change(
            self.surface,
            self.key,
            Action.CONFLICT,
            expected,
            current,
            f"{why}: shows {self.describe(current)}",
            writes=False,
            ownership="released" if release else "keep",
        )
