"""The state store: SQLite at $ALIGNER_STATE_DIR/state.db.

Per surface item it keeps the original captured before aligner's first write (snapshot), the
value aligner last applied, the ownership state, and adapter extras (e.g. a note's delivery
progress); plus a journal of every applied change. It never holds a secret: only values that
were read from or written to a surface.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aligner.core.model import Change, Json, Record
from aligner.errors import StateError
from aligner.state.lock import make_private_dir

SCHEMA_VERSION = 1
PENDING = "_writing"  # in extras: the value the last started write was sending
_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE items (
        surface TEXT NOT NULL,
        key TEXT NOT NULL,
        snapshot TEXT,
        applied TEXT,
        state TEXT NOT NULL DEFAULT 'active',
        extra TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (surface, key)
    );
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        surface TEXT NOT NULL,
        key TEXT NOT NULL,
        action TEXT NOT NULL,
        before TEXT,
        after TEXT,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    """,
}


@dataclass(frozen=True)
class JournalEntry:
    at: datetime
    surface: str
    key: str
    action: str
    before: Json
    after: Json
    outcome: str
    detail: str


def _dump(value: Json) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _load(text: str | None) -> Json:
    return None if text is None else json.loads(text)


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        make_private_dir(path.parent)
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # private from the start
            self._db = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._prepare()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StateError(
                f"cannot use the state database {path} ({exc}); move it aside to start afresh "
                "(aligner then no longer knows what it changed), or point ALIGNER_STATE_DIR "
                "elsewhere"
            ) from None

    def _prepare(self, attempts: int = 100) -> None:
        """WAL mode and migrations. Switching to WAL answers "locked" at once, without waiting
        for the busy timeout, while another process opens the same new database: retry."""
        for attempt in range(attempts):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt + 1 == attempts:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"{self.path} was written by a newer aligner (schema {version}); "
                    "upgrade aligner"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- items -------------------------------------------------------------------------------

    def records(self, surface: str) -> dict[str, Record]:
        rows = self._db.execute(
            "SELECT key, snapshot, applied, state, extra, updated_at FROM items WHERE surface = ?",
            (surface,),
        ).fetchall()
        return {
            key: Record(
                surface,
                key,
                _load(snap),
                _load(applied),
                state,
                json.loads(extra),
                datetime.fromisoformat(updated),
                written=applied is not None,
            )
            for key, snap, applied, state, extra, updated in rows
        }

    def record(self, surface: str, key: str) -> Record | None:
        return self.records(surface).get(key)

    def take_snapshot(
        self, surface: str, key: str, original: Json, now: datetime, writing: Json = None
    ) -> None:
        """Remember the original before the first write (`writing` is the value about to go).

        An active record keeps its snapshot, except while no write has succeeded since it was
        taken: then the surface still shows an original — a newer one if a person changed it
        meanwhile — unless it shows the value an unanswered write was sending.
        """
        with self._tx() as db:
            row = db.execute(
                "SELECT state, applied, extra FROM items WHERE surface = ? AND key = ?",
                (surface, key),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO items (surface, key, snapshot, applied, state, extra, updated_at) "
                    "VALUES (?, ?, ?, NULL, 'active', ?, ?)",
                    (surface, key, _dump(original), _dump({PENDING: writing}), now.isoformat()),
                )
                return
            state, applied, extra = row[0], row[1], json.loads(row[2])
            fresh = state != "active" or (applied is None and original != extra.get(PENDING))
            extra[PENDING] = writing
            db.execute(
                "UPDATE items SET snapshot = CASE WHEN ? THEN ? ELSE snapshot END, "
                "applied = CASE WHEN ? THEN NULL ELSE applied END, state = 'active', "
                "extra = ?, updated_at = ? WHERE surface = ? AND key = ?",
                (
                    fresh,
                    _dump(original),
                    state != "active",
                    _dump(extra),
                    now.isoformat(),
                    surface,
                    key,
                ),
            )

    def save_applied(
        self, surface: str, key: str, applied: Json, state: str, now: datetime
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO items (surface, key, snapshot, applied, state, updated_at) "
                "VALUES (?, ?, NULL, ?, ?, ?) ON CONFLICT (surface, key) DO UPDATE SET "
                "applied = excluded.applied, state = excluded.state, "
                "updated_at = excluded.updated_at",
                (surface, key, _dump(applied), state, now.isoformat()),
            )

    def set_state(self, surface: str, key: str, state: str, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state = ?, updated_at = ? WHERE surface = ? AND key = ?",
                (state, now.isoformat(), surface, key),
            )

    def save_extra(self, surface: str, key: str, extra: Mapping[str, Json], now: datetime) -> None:
        """Merge adapter extras for an item (creating the item if needed). Durable on return."""
        with self._tx() as db:
            row = db.execute(
                "SELECT extra FROM items WHERE surface = ? AND key = ?", (surface, key)
            ).fetchone()
            merged = {**(json.loads(row[0]) if row else {}), **extra}
            if row is None:
                db.execute(
                    "INSERT INTO items (surface, key, state, extra, updated_at) "
                    "VALUES (?, ?, 'restored', ?, ?)",
                    (surface, key, _dump(merged), now.isoformat()),
                )
            else:
                db.execute(
                    "UPDATE items SET extra = ?, updated_at = ? WHERE surface = ? AND key = ?",
                    (_dump(merged), now.isoformat(), surface, key),
                )

    def forget(self, surface: str, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM items WHERE surface = ? AND key = ?", (surface, key))

    # -- journal -----------------------------------------------------------------------------

    def journal(self, change: Change, outcome: str, detail: str, now: datetime) -> None:
        with self._tx() as db:
            last = db.execute(
                "SELECT action, after, outcome, detail FROM journal WHERE surface = ? AND key = ? "
                "ORDER BY id DESC LIMIT 1",
                (change.surface, change.key),
            ).fetchone()
            entry = (change.action, _dump(change.after), outcome, detail)
            if not change.writes and last == entry:
                return  # the same notice again: not news
            db.execute(
                "INSERT INTO journal (at, surface, key, action, before, after, outcome, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now.isoformat(),
                    change.surface,
                    change.key,
                    change.action,
                    _dump(change.before),
                    _dump(change.after),
                    outcome,
                    detail,
                ),
            )

    def entries(self, surface: str | None = None, limit: int = 200) -> list[JournalEntry]:
        query = "SELECT at, surface, key, action, before, after, outcome, detail FROM journal"
        args: tuple[Any, ...] = ()
        if surface:
            query += " WHERE surface = ?"
            args = (surface,)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [
            JournalEntry(datetime.fromisoformat(at), s, k, a, _load(b), _load(af), o, d)
            for at, s, k, a, b, af, o, d in reversed(rows)
        ]

    def all_surfaces(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT surface FROM items").fetchall()
        return sorted(cast(str, r[0]) for r in rows)


def utcnow() -> datetime:
    return datetime.now(UTC)
