"""The state store: SQLite at $ALIGNER_STATE_DIR/state.db.

Per surface item it keeps the original captured before aligner's first write (snapshot), the
value aligner last applied, the ownership state, and adapter extras (e.g. a note's delivery
progress); run-wide flags in `meta` (e.g. a revert in force); and a journal of applied changes,
pruned by age but never below the last rows of each item. It never holds a secret: only values
that were read from or written to a surface.

Every method turns a database, JSON or date error into one "cannot use the state database …"
line (see `Database.problem`).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from aligner.core.model import Change, Json, Record
from aligner.state.compact import compact, expand
from aligner.state.database import Database, transaction
from aligner.state.migrations import SCHEMA_VERSION, STATES, Unusable

__all__ = ["PENDING", "SCHEMA_VERSION", "JournalEntry", "Store"]

PENDING = "_writing"  # in extras: the value the last started write was sending
P = ParamSpec("P")
R = TypeVar("R")


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
    id: int = 0


class UnstorableValue(Exception):
    """A value that is not JSON: a bug in its surface, not a problem of the database."""


def _dump(value: Json) -> str:
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise UnstorableValue(f"not JSON: {exc}") from exc


def _load(text: str | None) -> Json:
    return None if text is None else json.loads(text)


def _guarded(method: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """Any database, JSON or date error becomes one clear StateError line.

    Also serialises: the connection is shared by the threads of a parallel apply, so each read
    and each transaction runs whole under the store's lock (reentrant: methods call methods).
    """

    @functools.wraps(method)
    def wrapper(self: Store, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with self._lock:
                return method(self, *args, **kwargs)
        except sqlite3.ProgrammingError:  # aligner misused the database: a bug, not damage
            raise
        except (sqlite3.DatabaseError, Unusable, ValueError, TypeError, OSError) as exc:
            raise self.database.problem(exc) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps hides the signature


class Store:
    """The state database, opened (see `Database`) and read and written one transaction a call."""

    def __init__(self, path: Path, *, readonly: bool = False, busy_wait: float = 10.0) -> None:
        self.path = path
        self.database = Database(path, readonly, busy_wait)
        self._lock = threading.RLock()
        self._db = self._open()

    @_guarded
    def _open(self) -> sqlite3.Connection:
        return self.database.open()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db)

    # -- items -------------------------------------------------------------------------------

    @_guarded
    def records(self, surface: str) -> dict[str, Record]:
        rows = self._db.execute(
            "SELECT key, snapshot, applied, state, extra, updated_at FROM items WHERE surface = ?",
            (surface,),
        ).fetchall()
        records = {}
        for key, snap, applied, state, extra, updated in rows:
            if state not in STATES:
                raise Unusable(f"item {surface}/{key} has an unknown state {state!r}")
            extras = json.loads(extra)
            if not isinstance(extras, dict):
                raise ValueError(f"item {surface}/{key} has damaged extras")
            records[key] = Record(
                surface,
                key,
                _load(snap),
                _load(applied),
                state,
                extras,
                datetime.fromisoformat(updated),
                written=applied is not None,
            )
        return records

    def record(self, surface: str, key: str) -> Record | None:
        return self.records(surface).get(key)

    @_guarded
    def take_snapshot(
        self, surface: str, key: str, original: Json, now: datetime, writing: Json = None
    ) -> None:
        """Remember the original before the first write (`writing` is the value about to go).

        An active record keeps its snapshot, except while no write has succeeded since it was
        taken: then the surface still shows an original — a newer one if a person changed it
        meanwhile — unless it shows the value an unanswered write was sending.
        """
        with self._write() as db:
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

    @_guarded
    def save_applied(
        self, surface: str, key: str, applied: Json, state: str, now: datetime
    ) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO items (surface, key, snapshot, applied, state, updated_at) "
                "VALUES (?, ?, NULL, ?, ?, ?) ON CONFLICT (surface, key) DO UPDATE SET "
                "applied = excluded.applied, state = excluded.state, "
                "updated_at = excluded.updated_at",
                (surface, key, _dump(applied), state, now.isoformat()),
            )

    @_guarded
    def set_state(self, surface: str, key: str, state: str, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE items SET state = ?, updated_at = ? WHERE surface = ? AND key = ?",
                (state, now.isoformat(), surface, key),
            )

    @_guarded
    def save_extra(self, surface: str, key: str, extra: Mapping[str, Json], now: datetime) -> None:
        """Merge adapter extras for an item (creating the item if needed). Durable on return."""
        with self._write() as db:
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

    @_guarded
    def all_surfaces(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT surface FROM items").fetchall()
        return sorted(cast(str, r[0]) for r in rows)

    # -- meta: run-wide flags ----------------------------------------------------------------

    @_guarded
    def meta(self, scope: str, key: str) -> Json | None:
        row = self._db.execute(
            "SELECT value FROM meta WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    @_guarded
    def metas(self, scope: str) -> dict[str, Json]:
        rows = self._db.execute("SELECT key, value FROM meta WHERE scope = ?", (scope,))
        return {key: json.loads(value) for key, value in rows.fetchall()}

    @_guarded
    def set_meta(self, scope: str, key: str, value: Json, now: datetime) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta (scope, key, value, updated_at) VALUES (?, ?, ?, ?)",
                (scope, key, _dump(value), now.isoformat()),
            )

    # -- journal -----------------------------------------------------------------------------

    @_guarded
    def journal(self, change: Change, outcome: str, detail: str, now: datetime) -> None:
        after = _dump(change.after)
        with self._write() as db:
            last = db.execute(
                "SELECT action, after, outcome, detail FROM journal WHERE surface = ? AND key = ? "
                "ORDER BY id DESC LIMIT 1",
                (change.surface, change.key),
            ).fetchone()
            if not change.writes and last == (change.action, after, outcome, detail):
                return  # the same notice again: not news
            db.execute(
                "INSERT INTO journal (at, surface, key, action, before, after, outcome, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now.isoformat(),
                    change.surface,
                    change.key,
                    change.action,
                    compact(_dump(change.before), after),
                    after,
                    outcome,
                    detail,
                ),
            )

    _COLUMNS = "id, at, surface, key, action, before, after, outcome, detail"

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> JournalEntry:
        id_, at, surface, key, action, before, after, outcome, detail = row
        full_before = None if before is None else expand(before, after)
        return JournalEntry(
            datetime.fromisoformat(at),
            surface,
            key,
            action,
            _load(full_before),
            _load(after),
            outcome,
            detail,
            id_,
        )

    @_guarded
    def entries(self, surface: str | None = None, limit: int = 200) -> list[JournalEntry]:
        query = f"SELECT {self._COLUMNS} FROM journal"
        args: tuple[Any, ...] = ()
        if surface:
            query += " WHERE surface = ?"
            args = (surface,)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [self._entry(row) for row in reversed(rows)]

    @_guarded
    def journal_items(self) -> list[tuple[str, str]]:
        """Every (surface, key) in the journal, in the order each first appeared (indexed)."""
        found: list[tuple[int, str, str]] = []
        row = self._db.execute(
            "SELECT surface, key, id FROM journal ORDER BY surface, key, id LIMIT 1"
        ).fetchone()
        while row is not None:
            found.append((row[2], row[0], row[1]))
            row = self._db.execute(
                "SELECT surface, key, id FROM journal WHERE (surface, key) > (?, ?) "
                "ORDER BY surface, key, id LIMIT 1",
                (row[0], row[1]),
            ).fetchone()
        return [(surface, key) for _, surface, key in sorted(found)]

    @_guarded
    def last_entry(self, surface: str, key: str, outcomes: tuple[str, ...]) -> JournalEntry | None:
        """The newest row of one item with one of `outcomes` (indexed)."""
        marks = ", ".join("?" * len(outcomes))
        row = self._db.execute(
            f"SELECT {self._COLUMNS} FROM journal WHERE surface = ? AND key = ? "
            f"AND outcome IN ({marks}) ORDER BY id DESC LIMIT 1",
            (surface, key, *outcomes),
        ).fetchone()
        return None if row is None else self._entry(row)

    @_guarded
    def prune(self, now: datetime, keep_days: float, keep_rows: int) -> int:
        """Drop journal rows older than `keep_days`, keeping each item's last `keep_rows`.

        Items, their snapshots and meta are never pruned. Returns how many rows went.
        """
        cutoff = (now - timedelta(days=keep_days)).isoformat()
        oldest = self._db.execute(
            "SELECT julianday(at) < julianday(?) FROM journal ORDER BY id LIMIT 1", (cutoff,)
        ).fetchone()
        if not oldest or not oldest[0]:
            return 0  # the usual run: nothing old enough, and nothing written
        gone = 0
        with self._write() as db:
            for surface, key in self.journal_items():
                nth = db.execute(
                    "SELECT id FROM journal WHERE surface = ? AND key = ? "
                    "ORDER BY id DESC LIMIT 1 OFFSET ?",
                    (surface, key, max(keep_rows, 1) - 1),
                ).fetchone()
                if nth is not None:
                    gone += db.execute(
                        "DELETE FROM journal WHERE surface = ? AND key = ? AND id < ? "
                        "AND julianday(at) < julianday(?)",
                        (surface, key, nth[0], cutoff),
                    ).rowcount
        return gone
