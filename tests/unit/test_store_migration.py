"""A state.db written by the previous release (schema 1) keeps working, with nothing lost.

The fixtures are databases the previous release wrote across a real timeline, with a JSON dump
of every item, and the theme file they were written with.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from aligner.state.store import SCHEMA_VERSION, Store
from tests.conftest import Aligner

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = datetime(2026, 12, 3, 3, tzinfo=UTC)


def v1_copy(name: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "state.db"
    shutil.copyfile(FIXTURES / f"state-v1-{name}.db", target)
    return target


def dump(name: str) -> dict[str, dict[str, dict[str, Any]]]:
    return cast(
        dict[str, dict[str, dict[str, Any]]],
        json.loads((FIXTURES / f"state-v1-{name}.json").read_text(encoding="utf-8")),
    )


def is_pseudo(surface: str, key: str) -> bool:
    return surface.startswith("_") or key.startswith("_")


@pytest.mark.parametrize("name", ["active", "reverted"])
def test_every_snapshot_applied_value_state_and_extra_survives(name: str, tmp_path: Path) -> None:
    path = v1_copy(name, tmp_path)
    journal_rows = sqlite3.connect(path).execute("SELECT count(*) FROM journal").fetchone()[0]
    with Store(path) as store:
        for surface, items in dump(name).items():
            records = store.records(surface)
            for key, item in items.items():
                if is_pseudo(surface, key):
                    assert key not in records
                    continue
                record = records[key]
                assert (record.snapshot, record.applied, record.state, dict(record.extra)) == (
                    item["snapshot"],
                    item["applied"],
                    item["state"],
                    item["extra"],
                ), f"{surface}/{key}"
        assert len(store.entries(limit=10_000)) == journal_rows
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_pseudo_items_become_meta_rows(tmp_path: Path) -> None:
    with Store(v1_copy("active", tmp_path / "a")) as store:
        account = dump("active")["calendar"]["_account"]["extra"]
        assert store.meta("calendar", "account") == account
        assert store.metas("calendar") == {"account": account}
        assert "_account" not in store.records("calendar")
    with Store(v1_copy("reverted", tmp_path / "r")) as store:
        assert store.meta("aligner", "revert") == dump("reverted")["_aligner"]["revert"]["extra"]
        assert "_aligner" not in store.all_surfaces()


def test_the_migration_knows_no_surface_names(tmp_path: Path) -> None:
    """Every item whose surface or key starts with "_" moves to meta, named without the "_"."""
    path = v1_copy("active", tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO items (surface, key, state, extra, updated_at) "
            "VALUES ('_anything', '_flag', 'restored', '{\"on\": true}', '2026-12-02T00:00:00')"
        )
    db.close()
    with Store(path) as store:
        assert store.meta("anything", "flag") == {"on": True}
        assert store.all_surfaces() == ["calendar", "note", "signature", "slack"]


def test_the_revert_marker_of_a_v1_database_still_holds(
    env: dict[str, str], state_dir: Path
) -> None:
    v1_copy("reverted", state_dir)
    theme = FIXTURES / "state-v1-theme.toml"
    result = Aligner(env, theme)("plan", "--json", now="2026-12-03T03:00:00Z")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reverted_at"] == "2026-12-03T02:40:00+00:00"
    status = Aligner(env, theme)("status", "--json", now="2026-12-03T03:00:00Z")
    assert json.loads(status.stdout)["reverted_at"] == "2026-12-03T02:40:00+00:00"


def test_reading_a_v1_database_does_not_upgrade_it(env: dict[str, str], state_dir: Path) -> None:
    """plan and status only read: they see the migrated view; the file stays as it was."""
    path = v1_copy("active", state_dir)
    before = path.read_bytes()
    theme = FIXTURES / "state-v1-theme.toml"
    status = Aligner(env, theme)("status", "--json", now="2026-12-03T03:00:00Z")
    assert status.exit_code == 0, status.output
    assert set(json.loads(status.stdout)["surfaces"]) == {"slack", "calendar", "signature", "note"}
    assert path.read_bytes() == before


def test_a_database_from_a_newer_aligner_is_refused_in_one_line(
    aligner: Aligner, state_dir: Path
) -> None:
    Store(state_dir / "state.db").close()
    with sqlite3.connect(state_dir / "state.db") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    for command in ("apply", "plan", "status"):
        result = aligner(command, now="2026-12-02T20:00:00Z")
        assert result.exit_code == 2, command
        errors = [x for x in result.stderr.splitlines() if not x.startswith(("note:", "warning:"))]
        assert len(errors) == 1 and "cannot use the state database" in errors[0]
        assert f"written by a newer aligner (schema {SCHEMA_VERSION + 1})" in errors[0]


def test_runs_opening_a_v1_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = v1_copy("reverted", tmp_path)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait(timeout=30)
        try:
            with Store(path) as store:
                store.set_meta("test", "opened", True, NOW)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Store(path) as store:
        assert store.meta("aligner", "revert") == dump("reverted")["_aligner"]["revert"]["extra"]
        assert len(store.records("calendar")) == 3
