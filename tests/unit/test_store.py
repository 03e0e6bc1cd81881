"""The state store: schema, snapshots, journal, and opening one database from many runs."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aligner.core.model import Change
from aligner.errors import StateError
from aligner.state.store import SCHEMA_VERSION, Store

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_many_runs_opening_a_new_database_at_once(tmp_path: Path) -> None:
    for round_ in range(10):
        path = tmp_path / f"{round_}" / "state.db"
        start = threading.Barrier(6)
        errors: list[BaseException] = []

        def open_it(
            path: Path = path,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait(timeout=30)
            try:
                with Store(path) as store:  # open, then write at once, as an apply does
                    store.save_extra("s", "k", {"n": 1}, NOW)
            except BaseException as exc:  # collected for the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []


def test_snapshot_is_kept_until_given_back(tmp_path: Path) -> None:
    with Store(tmp_path / "state.db") as store:
        store.take_snapshot("s", "k", "original", NOW)
        assert not store.record("s", "k").written  # type: ignore[union-attr]
        store.save_applied("s", "k", "themed", "active", NOW)
        store.take_snapshot("s", "k", "ignored while active", NOW)
        record = store.record("s", "k")
        assert record is not None
        assert (record.snapshot, record.applied, record.state, record.written) == (
            "original",
            "themed",
            "active",
            True,
        )
        store.set_state("s", "k", "restored", NOW)
        store.take_snapshot("s", "k", "new original", NOW)
        assert store.record("s", "k").snapshot == "new original"  # type: ignore[union-attr]


def test_journal_skips_a_repeated_notice_but_keeps_writes(tmp_path: Path) -> None:
    notice = Change("s", "k", "conflict", "a", "b", "changed by hand", writes=False)
    write = Change("s", "k", "set", "a", "b", "a → b")
    with Store(tmp_path / "state.db") as store:
        store.journal(notice, "conflict", "", NOW)
        store.journal(notice, "conflict", "", NOW)
        store.journal(write, "applied", "", NOW)
        store.journal(write, "applied", "", NOW)
        assert [e.outcome for e in store.entries()] == ["conflict", "applied", "applied"]


def test_schema_is_versioned(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StateError, match="newer aligner"):
        Store(path)


def test_one_store_shared_by_threads_keeps_every_write(tmp_path: Path) -> None:
    """A parallel apply shares one store: its transactions never interleave."""
    threads, each = 8, 40
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    with Store(tmp_path / "state.db") as store:

        def work(n: int) -> None:
            start.wait(timeout=30)
            try:
                for i in range(each):
                    key = f"k{n}-{i}"
                    store.take_snapshot(f"s{n}", key, "original", NOW, writing="new")
                    store.save_extra(f"s{n}", key, {"pending": i}, NOW)
                    store.save_applied(f"s{n}", key, "new", "active", NOW)
                    store.journal(
                        Change(f"s{n}", key, "set", "a", "b", "a → b"), "applied", "", NOW
                    )
                    assert store.record(f"s{n}", key) is not None
            except BaseException as exc:  # reported below
                errors.append(exc)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        for n in range(threads):
            records = store.records(f"s{n}")
            assert len(records) == each
            assert all(r.applied == "new" and r.snapshot == "original" for r in records.values())
        assert len(store.entries(limit=threads * each + 1)) == threads * each
