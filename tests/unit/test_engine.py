"""The engine with in-memory surfaces: concurrency of reads, isolation of failures, the journal."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aligner.core.engine import Engine
from aligner.core.model import Change, Json, Record
from aligner.core.ownership import OwnedValue
from aligner.errors import AuthError, TransientError
from aligner.state.settings import Settings
from aligner.state.store import Store
from aligner.surfaces.base import DiffContext, Ledger, Surface
from aligner.theme.schema import ThemeConfig, parse_config
from tests.conftest import BASE_THEME

CONFIG: ThemeConfig = parse_config(tomllib.loads(BASE_THEME))
DURING = datetime(2026, 12, 2, 20, tzinfo=UTC)
AFTER = datetime(2026, 12, 3, 20, tzinfo=UTC)


class MemorySurface(Surface):
    """A surface whose 'vendor' is a dict: one item, themed during the window."""

    name = "memory"
    title = "Memory"

    def __init__(
        self,
        name: str,
        barrier: threading.Barrier | None = None,
        fail_with: Exception | None = None,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.value: Json = "original"
        self.writes = 0
        self.barrier = barrier
        self.fail_with = fail_with

    @classmethod
    def enabled(cls, config: ThemeConfig) -> bool:
        return True

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        return {"item": "themed" if config.schedule.in_window(now) else None}

    @classmethod
    def connect(cls, settings: Settings) -> Surface:
        raise NotImplementedError

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        if self.barrier is not None:
            self.barrier.wait(timeout=5)  # only passes if the other surface reads at once
        return {"item": self.value}

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        record = ctx.records.get("item")
        owned = OwnedValue(self.name, "item", lambda a, b: a == b, str)
        target = None if ctx.revert else desired["item"]
        return owned.diff(target, current["item"], record, record.snapshot if record else None)

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        if self.fail_with is not None:
            raise self.fail_with
        self.writes += 1
        self.value = change.after
        return self.value


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.db") as opened:
        yield opened


def engine(store: Store, *surfaces: MemorySurface) -> Engine:
    return Engine(CONFIG, {s.name: s for s in surfaces}, store)


def test_reads_run_concurrently(store: Store) -> None:
    barrier = threading.Barrier(2)
    one, two = MemorySurface("one", barrier), MemorySurface("two", barrier)
    plan = engine(store, one, two).plan(DURING)
    assert plan.errors == {}
    assert len(plan.changes) == 2


def test_a_failing_surface_does_not_stop_the_others(store: Store) -> None:
    broken = MemorySurface("broken", fail_with=TransientError("down", "broken"))
    fine = MemorySurface("fine")
    eng = engine(store, broken, fine)
    result = eng.apply(eng.plan(DURING), DURING)
    assert result.failed == {"broken": "down"}
    assert fine.value == "themed"
    entries = eng.store.entries()
    # surfaces apply side by side: the journal's order between them is not fixed
    assert sorted((e.surface, e.outcome) for e in entries) == [
        ("broken", "failed"),
        ("fine", "applied"),
    ]


def test_auth_failure_skips_the_rest_of_that_surface(store: Store) -> None:
    broken = MemorySurface("broken", fail_with=AuthError("bad token", "broken"))
    eng = engine(store, broken)
    result = eng.apply(eng.plan(DURING), DURING)
    assert result.outcomes[0].auth_failed


def test_snapshot_then_restore_then_nothing(store: Store) -> None:
    surface = MemorySurface("memory")
    eng = engine(store, surface)
    eng.apply(eng.plan(DURING), DURING)
    record = eng.store.record("memory", "item")
    assert record is not None
    assert (record.snapshot, record.applied, record.state) == ("original", "themed", "active")
    assert eng.plan(DURING).changes == ()
    eng.apply(eng.plan(AFTER), AFTER)
    assert surface.value == "original" and surface.writes == 2
    assert eng.plan(AFTER).changes == ()


def test_connection_errors_are_reported_per_surface(store: Store) -> None:
    eng = Engine(
        CONFIG,
        {"memory": MemorySurface("memory"), "absent": AuthError("no token", "absent")},
        store,
    )
    plan = eng.plan(DURING)
    assert plan.errors == {"absent": "no token"}
    assert len(plan.changes) == 1


def test_a_surface_that_could_not_connect_keeps_its_title_and_counts_as_failed(
    store: Store,
) -> None:
    from aligner.render.text import closing_line

    eng = Engine(
        CONFIG,
        {"memory": MemorySurface("memory"), "slack": AuthError("no token", "slack")},
        store,
    )
    plan = eng.plan(DURING)
    (failed,) = [p for p in plan.surfaces if p.surface == "slack"]
    assert failed.title == "Slack status"  # not its internal name
    assert closing_line(plan) == "1 change pending; 1 surface failed (see above)."


class AccountSurface(MemorySurface):
    """A memory surface whose account costs a call of its own (as Slack's auth.test does)."""

    account_costs_a_call = True

    def __init__(self, name: str, barrier: threading.Barrier | None = None) -> None:
        super().__init__(name, barrier)
        self.asked = 0
        self.account: str | None = None

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        if self.account is None and needed:
            self.asked += 1
            if self.barrier is not None:
                self.barrier.wait(timeout=5)  # only passes while the read waits too
            self.account = "team/user"
        return self.account


def test_an_account_that_costs_a_call_is_asked_alongside_a_read_that_will_write(
    store: Store,
) -> None:
    surface = AccountSurface("acct", threading.Barrier(2))
    plan = engine(store, surface).plan(DURING)
    assert plan.errors == {}
    assert plan.surfaces[0].account == "team/user" and surface.asked == 1


def test_a_run_with_nothing_to_do_never_asks_the_account(store: Store) -> None:
    first = AccountSurface("acct")
    eng = engine(store, first)
    eng.apply(eng.plan(DURING), DURING)
    again = AccountSurface("acct")
    again.value = first.value  # the vendor shows what aligner wrote
    plan = engine(store, again).plan(DURING)
    assert plan.changes == () and again.asked == 0
    before = AccountSurface("fresh")
    assert engine(store, before).plan(datetime(2026, 12, 1, tzinfo=UTC)).changes == ()
    assert before.asked == 0  # before the window nothing is set and nothing is held


def test_a_hand_edit_asks_the_account_after_the_read(store: Store) -> None:
    """Nothing in the theme or the records says this run writes; only the read shows the edit
    (a conflict to report), so the account is asked then: one call, in turn."""
    first = AccountSurface("acct")
    eng = engine(store, first)
    eng.apply(eng.plan(DURING), DURING)
    edited = AccountSurface("acct")
    edited.value = "a person's own"
    plan = engine(store, edited).plan(DURING)
    assert [c.is_conflict for c in plan.surfaces[0].changes] == [True]
    assert edited.asked == 1 and plan.surfaces[0].account == "team/user"


def test_will_write_reads_only_the_theme_and_the_records() -> None:
    from aligner.core.engine import will_write

    surface = MemorySurface("m")

    def record(applied: Json, state: str = "active") -> Record:
        return Record("m", "item", "original", applied, state, {})  # type: ignore[arg-type]

    assert will_write(surface, {"item": "themed"}, {}, off=False)  # nothing set yet
    # the account is on record, yet nothing was ever set: the item already showed the theme
    assert not will_write(surface, {"item": "themed"}, {}, off=False, account_known=True)
    assert not will_write(surface, {"item": "themed"}, {"item": record("themed")}, off=False)
    assert will_write(surface, {"item": "new theme"}, {"item": record("themed")}, off=False)
    assert will_write(surface, {"item": "themed"}, {"item": record("themed", "restored")}, False)
    assert will_write(surface, {"item": None}, {"item": record("themed")}, off=False)  # give back
    assert will_write(surface, {"item": "themed"}, {"item": record("themed")}, off=True)
    assert not will_write(surface, {"item": None}, {}, off=False)
    assert not will_write(surface, {"item": None}, {"item": record("x", "restored")}, off=True)
