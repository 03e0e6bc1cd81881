"""A state database that is empty, foreign or damaged is refused in one line, and left as it is.

Only a missing file means a first run. Every other problem is "cannot use the state database …":
exit 2 when a person must move the database aside, exit 1 when the next run may succeed (the
disk filled up). Nothing already stored is lost either way.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from aligner.core.model import Change
from aligner.errors import StateError, StateRefused
from aligner.sandbox.server import Sandbox
from aligner.state.database import Database
from aligner.state.store import Store, UnstorableValue
from tests.conftest import AFTER, DURING, Aligner

NOW = datetime(2026, 12, 2, 20, tzinfo=UTC)


def one_error_line(result: Result) -> str:
    assert "Traceback" not in result.output and "internal error" not in result.output
    errors = [x for x in result.stderr.splitlines() if not x.startswith(("note:", "warning:"))]
    assert len(errors) == 1, result.stderr
    assert "cannot use the state database" in errors[0]
    return errors[0]


def sql(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()


def overwrite_page(path: Path, table: str, data: Callable[[int], bytes]) -> None:
    db = sqlite3.connect(path)
    page = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with path.open("r+b") as file:
        file.seek((page - 1) * size)
        file.write(data(size))


def fill_last_page(path: Path) -> None:
    """Pad the journal until one more row needs a new page."""
    db = sqlite3.connect(path, isolation_level=None)
    while True:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute("SAVEPOINT pad")
        db.execute(
            "INSERT INTO journal (at, surface, key, action, outcome, detail) "
            "VALUES ('2026-12-02T00:00:00+00:00', 'pad', 'pad', 'pad', 'noted', ?)",
            ("p" * 100,),
        )
        if db.execute("PRAGMA page_count").fetchone()[0] > pages:
            db.execute("ROLLBACK TO pad")
            db.execute("RELEASE pad")
            break
        db.execute("RELEASE pad")
    db.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random page bytes": lambda p: overwrite_page(p, "items", random.Random(7).randbytes),
    "a zeroed page": lambda p: overwrite_page(p, "items", bytes),
    "user_version -5": lambda p: sql(p, "PRAGMA user_version = -5"),
    "a dropped table": lambda p: sql(p, "DROP TABLE journal"),
    "bad JSON in a row": lambda p: sql(p, "UPDATE items SET applied = '{\"text\": '"),
    "bad date in a row": lambda p: sql(p, "UPDATE items SET updated_at = 'yesterday-ish'"),
    "an unknown state": lambda p: sql(p, "UPDATE items SET state = 'borrowed'"),
    "missing tables at version 1": lambda p: sql(
        p, "DROP TABLE items", "DROP TABLE journal", "DROP TABLE meta", "PRAGMA user_version = 1"
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damage_after_a_first_apply_is_one_line_and_nothing_is_written(
    damage: str, aligner: Aligner, state_dir: Path, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    path = state_dir / "state.db"
    DAMAGE[damage](path)
    damaged = path.read_bytes()
    for command in ("apply", "status", "plan"):
        result = aligner(command, now=AFTER)
        assert result.exit_code == 2, (command, result.output)
        assert "move it aside" in one_error_line(result)
    assert path.read_bytes() == damaged
    assert len(sandbox.requests("slack", "users.profile.set")) == 1  # the themed status stays


def test_an_empty_file_is_not_a_first_run(
    aligner: Aligner, state_dir: Path, sandbox: Sandbox
) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "state.db").touch()
    for command in ("apply", "status", "plan"):
        result = aligner(command, now=DURING)
        assert result.exit_code == 2, command
        assert "it is empty, 0 bytes; only a missing file means a first run" in one_error_line(
            result
        )
    assert (state_dir / "state.db").stat().st_size == 0
    assert sandbox.requests("slack", "users.profile.set") == []


def test_a_database_that_is_not_aligners_is_left_alone(
    aligner: Aligner, state_dir: Path, sandbox: Sandbox
) -> None:
    state_dir.mkdir(parents=True)
    sql(state_dir / "state.db", "CREATE TABLE photos (id INTEGER)", "INSERT INTO photos VALUES (1)")
    before = (state_dir / "state.db").read_bytes()
    result = aligner("apply", now=DURING)
    assert result.exit_code == 2
    assert "not an aligner state database" in one_error_line(result)
    assert (state_dir / "state.db").read_bytes() == before
    assert sandbox.requests("slack", "users.profile.set") == []


def test_a_full_disk_mid_apply_is_one_line_and_keeps_what_was_stored(
    aligner: Aligner, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    fill_last_page(state_dir / "state.db")
    with Store(state_dir / "state.db") as store:
        kept = store.records("slack")
    connect = Database.connect

    def full_disk(self: Database, target: str, *, uri: bool = False) -> sqlite3.Connection:
        db = connect(self, target, uri=uri)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # not one page more
        return db

    monkeypatch.setattr(Database, "connect", full_disk)
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 1  # the next run may succeed
    assert "database or disk is full" in one_error_line(result)
    monkeypatch.undo()
    with Store(state_dir / "state.db") as store:
        assert store.records("slack")["status"].snapshot == kept["status"].snapshot
    assert aligner("apply", now=AFTER).exit_code == 0  # with room again, the run completes


def test_a_full_disk_in_the_store_raises_a_state_error_and_keeps_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with Store(path) as store:
        store.take_snapshot("s", "k", "original", NOW)
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        change = Change("s", "k", "set", "original", "x" * 100_000, "set")
        with pytest.raises(StateError, match="database or disk is full") as raised:
            store.journal(change, "applied", "", NOW)
        assert not isinstance(raised.value, StateRefused)
    with Store(path) as store:
        assert store.record("s", "k").snapshot == "original"  # type: ignore[union-attr]


def test_a_directory_in_place_of_the_database_is_one_line(
    aligner: Aligner, state_dir: Path
) -> None:
    (state_dir / "state.db").mkdir(parents=True)
    result = aligner("apply", now=DURING)
    assert result.exit_code in (1, 2)
    one_error_line(result)


def test_a_value_that_is_not_json_is_a_bug_not_a_damaged_database(tmp_path: Path) -> None:
    """Telling a person to move the database aside would lose their originals for a bug."""
    with Store(tmp_path / "state.db") as store:
        with pytest.raises(UnstorableValue):
            store.save_applied("s", "k", {"when": datetime.now(UTC)}, "active", NOW)
        assert store.records("s") == {}
