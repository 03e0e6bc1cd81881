"""Plan and apply. Knows surfaces only through their common interface, never a vendor."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from aligner.core.accounts import account_changed, adoption_notice, recorded
from aligner.core.model import (
    Action,
    ApplyResult,
    Change,
    Json,
    Outcome,
    Plan,
    Record,
    SurfacePlan,
)
from aligner.errors import AuthError, ConfigError, SurfaceError
from aligner.state.store import PENDING, Store
from aligner.surfaces import by_name
from aligner.surfaces.base import DiffContext, Surface
from aligner.theme.schema import ThemeConfig


@dataclass(frozen=True)
class StoreLedger:
    """A surface's view of the store, for durable progress inside `apply`."""

    store: Store
    surface: str
    now: datetime
    said: list[str] = field(default_factory=list)

    def record(self, key: str) -> Record | None:
        return self.store.record(self.surface, key)

    def save_extra(self, key: str, extra: Mapping[str, Json]) -> None:
        self.store.save_extra(self.surface, key, extra, self.now)

    def remember(self, key: str, value: Json) -> None:
        self.store.set_meta(self.surface, key, value, self.now)

    def recall(self, key: str) -> Json:
        return self.store.meta(self.surface, key)

    def say(self, message: str) -> None:
        self.said.append(message)

    def take_said(self) -> tuple[str, ...]:
        said = tuple(self.said)
        self.said.clear()
        return said


Connected = Surface | SurfaceError


@dataclass
class Engine:
    config: ThemeConfig
    surfaces: Mapping[str, Connected]
    store: Store

    def plan(
        self,
        now: datetime,
        *,
        force: bool = False,
        revert: bool = False,
        adopt_account: bool = False,
    ) -> Plan:
        names = list(self.surfaces)
        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            plans = list(
                pool.map(lambda n: self._plan_one(n, now, force, revert, adopt_account), names)
            )
        return Plan(now, self.config.schedule.phase(now), tuple(plans))

    def _plan_one(
        self, name: str, now: datetime, force: bool, revert: bool, adopt_account: bool
    ) -> SurfacePlan:
        surface = self.surfaces[name]
        if isinstance(surface, SurfaceError):  # it could not connect: named as the theme has it
            return SurfacePlan(name, self._title(name), error=str(surface))
        try:
            records = self.store.records(name)
            off = revert or not surface.enabled(self.config)
            memory = self.store.metas(name)
            desired = self._desired(surface, now, giving_back=off)
            expected = recorded(self.store, name)
            known = expected is not None
            if surface.account_costs_a_call and will_write(surface, desired, records, off, known):
                current = read_with_account(surface, self.config, records)
            else:
                current = surface.read(self.config, records)
            found = surface.account_id(current, needed=False)  # free where the read shows it
            changes: list[Change] | None = None
            if found is None:
                ctx = DiffContext(self.config, now, records, force=force, revert=off, memory=memory)
                changes = surface.diff(ctx, desired, current)
                busy = any(c.writes or c.is_conflict for c in changes)
                found = surface.account_id(current, needed=busy)
            adopted = None
            if found is not None and expected is not None and found != expected:
                if not adopt_account and any(r.active for r in records.values()):
                    raise account_changed(surface, expected, found)
                records, memory, changes, adopted = {}, {}, None, expected  # start afresh
            if changes is None:
                ctx = DiffContext(self.config, now, records, force=force, revert=off, memory=memory)
                changes = surface.diff(ctx, desired, current)
            if adopted is not None and found is not None:
                changes = [adoption_notice(surface, adopted, found), *changes]
        except (SurfaceError, ConfigError) as exc:
            return SurfacePlan(name, surface.title, error=str(exc))
        return SurfacePlan(name, surface.title, tuple(changes), account=found, adopted=adopted)

    def _title(self, name: str) -> str:
        try:
            return by_name(name).title_for(self.config)
        except KeyError:  # not a registered surface (a test double)
            return name

    def _desired(self, surface: Surface, now: datetime, *, giving_back: bool) -> dict[str, Json]:
        """Giving back needs no rendering: a theme that no longer renders cannot block it."""
        try:
            return surface.desired(self.config, now)
        except ConfigError:
            if giving_back:
                return {}
            raise

    def apply(self, plan: Plan, now: datetime) -> ApplyResult:
        """Apply each surface's changes in order, the surfaces side by side (a thread each).

        The store serialises its own transactions; outcomes come back in plan order.
        """
        runs: list[tuple[Surface, SurfacePlan]] = []
        for surface_plan in plan.surfaces:
            surface = self.surfaces.get(surface_plan.surface)
            if surface_plan.changes and not surface_plan.error and isinstance(surface, Surface):
                runs.append((surface, surface_plan))
        if len(runs) <= 1:
            done = [self._apply_surface(s, p, now) for s, p in runs]
        else:
            with ThreadPoolExecutor(max_workers=len(runs)) as pool:
                done = list(pool.map(lambda run: self._apply_surface(run[0], run[1], now), runs))
        return ApplyResult(plan, tuple(o for outcomes in done for o in outcomes))

    def _apply_surface(
        self, surface: Surface, surface_plan: SurfacePlan, now: datetime
    ) -> list[Outcome]:
        """One surface's changes in order; or, for a surface that allows it
        (`Surface.parallel_writes`), each key's changes in order with up to that many keys
        written at once. The first key that writes goes alone: what it learns (e.g. that the account
        refuses a kind of value) serves the rest, as it would one after another."""
        groups: dict[str, list[tuple[int, Change]]] = {}
        for index, change in enumerate(surface_plan.changes):
            groups.setdefault(change.key, []).append((index, change))
        runs = list(groups.values())
        stop = threading.Event()  # an auth failure ends the surface's run, as it would in turn

        def run(changes: list[tuple[int, Change]]) -> list[tuple[int, Outcome]]:
            ledger = StoreLedger(self.store, surface_plan.surface, now)
            done: list[tuple[int, Outcome]] = []
            for index, change in changes:
                if stop.is_set():
                    break
                outcome = self._apply_one(surface, change, ledger, now)
                done.append((index, outcome))
                if outcome.auth_failed:
                    stop.set()
            return done

        first = next((i for i, g in enumerate(runs) if any(c.writes for _, c in g)), len(runs))
        width = min(surface.parallel_writes, len(runs) - first - 1)
        if width <= 1:
            results = [run(list(enumerate(surface_plan.changes)))]
        else:
            results = [run([c for group in runs[: first + 1] for c in group])]
            with ThreadPoolExecutor(max_workers=width) as pool:
                results += pool.map(run, runs[first + 1 :])
        return [outcome for _, outcome in sorted(o for done in results for o in done)]

    def _apply_one(
        self, surface: Surface, change: Change, ledger: StoreLedger, now: datetime
    ) -> Outcome:
        store, name, key = self.store, change.surface, change.key
        if not change.writes:
            if change.action is Action.ADOPT:  # an earlier write went through after all
                store.save_applied(name, key, change.after, "active", now)
            elif change.ownership in ("restored", "released"):
                store.set_state(name, key, change.ownership, now)
            store.journal(change, "conflict" if change.is_conflict else "noted", "", now)
            return Outcome(change, ok=True)
        record = store.record(name, key)
        if change.ownership == "active" and (
            record is None or not record.active or not record.written
        ):
            original = change.before
            if record is not None and record.active and not record.written:
                pending = record.extra.get(PENDING)
                if pending is not None and surface.same_value(original, pending):
                    original = record.snapshot  # aligner's own unanswered write, not an original
            store.take_snapshot(name, key, original, now, writing=change.after)
        try:
            stored = surface.apply(self.config, change, ledger)
        except SurfaceError as exc:
            store.journal(change, "failed", str(exc), now)
            return Outcome(
                change, ok=False, detail=str(exc), auth_failed=isinstance(exc, AuthError)
            )
        state = "active" if change.ownership in ("active", "keep") else change.ownership
        store.save_applied(name, key, stored, state, now)
        notes = ledger.take_said()
        store.journal(change, "applied", "; ".join(notes), now)
        return Outcome(change, ok=True, notes=notes)


def will_write(
    surface: Surface,
    desired: Mapping[str, Json],
    records: Mapping[str, Record],
    off: bool,
    account_known: bool = False,
) -> bool:
    """What the theme and the records alone say: this run sets something aligner has not set
    yet, or gives something back. (A person's edit can make a run write too; only its read
    tells.)

    An item with no record at all counts only until the surface's account is on record: once a
    run has read the surface, an item still unrecorded is one that already showed the theme
    (nothing to write, so no record), and guessing "write" there would ask the account again on
    every later run."""
    if not off:
        for key, want in desired.items():
            record = records.get(key)
            if want is None:
                continue
            if record is None:
                if not account_known:
                    return True
            elif not record.active or not surface.same_value(record.applied, want):
                return True
    wanted = {} if off else desired
    return any(r.active and wanted.get(key) is None for key, r in records.items())


def read_with_account(
    surface: Surface, config: ThemeConfig, records: Mapping[str, Record]
) -> dict[str, Json]:
    """The read, and the account asked at the same time (the run will need both)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        who = pool.submit(surface.account_id, {}, needed=True)
        current = surface.read(config, records)  # its error, if any, wins
        who.result()  # a refused token fails the surface here, as it would after the read
    return current


def surfaces_to_run(
    registry: Sequence[type[Surface]],
    config: ThemeConfig,
    store: Store,
    *,
    busy_at: datetime | None = None,
    giving_back: bool = False,
) -> list[type[Surface]]:
    """Enabled surfaces, plus disabled ones that still hold something to give back.

    With `busy_at`, only those for which something can be due then: a surface that is idle
    (`Surface.idle`) is neither read nor written, so a run with nothing to do calls no API.
    """
    chosen = []
    for cls in registry:
        records = store.records(cls.name)
        owns = any(r.active for r in records.values())
        if not (cls.enabled(config) or owns):
            continue
        off = giving_back or not cls.enabled(config)
        if busy_at is not None and cls.idle(config, busy_at, records, giving_back=off):
            continue
        chosen.append(cls)
    return chosen
