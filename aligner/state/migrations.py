"""The state database's schema, one numbered step per version, and the checks that tell an
aligner database (of a version this code can read) from an empty, foreign or damaged file.

`PRAGMA user_version` holds the version. Version 2 moves run-wide flags out of pseudo-items
(any item whose surface or key starts with "_") into `meta`, and indexes the journal per item.
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 2
STATES = ("active", "restored", "released")

_STEPS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE items (
            surface TEXT NOT NULL,
            key TEXT NOT NULL,
            snapshot TEXT,
            applied TEXT,
            state TEXT NOT NULL DEFAULT 'active',
            extra TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (surface, key)
        )""",
        """CREATE TABLE journal (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            surface TEXT NOT NULL,
            key TEXT NOT NULL,
            action TEXT NOT NULL,
            before TEXT,
            after TEXT,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
    ),
    2: (
        """CREATE TABLE meta (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        )""",
        """INSERT OR REPLACE INTO meta (scope, key, value, updated_at)
            SELECT CASE WHEN substr(surface, 1, 1) = '_' THEN substr(surface, 2) ELSE surface END,
                   CASE WHEN substr(key, 1, 1) = '_' THEN substr(key, 2) ELSE key END,
                   extra, updated_at
            FROM items WHERE substr(surface, 1, 1) = '_' OR substr(key, 1, 1) = '_'
            ORDER BY updated_at""",
        "DELETE FROM items WHERE substr(surface, 1, 1) = '_' OR substr(key, 1, 1) = '_'",
        "CREATE INDEX journal_item ON journal (surface, key, id)",
    ),
}

# The columns each table must have from the version that introduced it.
_TABLES: dict[str, tuple[int, frozenset[str]]] = {
    "items": (
        1,
        frozenset({"surface", "key", "snapshot", "applied", "state", "extra", "updated_at"}),
    ),
    "journal": (
        1,
        frozenset({"id", "at", "surface", "key", "action", "before", "after", "outcome", "detail"}),
    ),
    "meta": (2, frozenset({"scope", "key", "value", "updated_at"})),
}


class Unusable(Exception):
    """The database is not one this aligner can use as it is; the message says why."""


def version_of(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def check(db: sqlite3.Connection) -> int:
    """The schema version of an existing aligner database; raise Unusable for anything else."""
    version = version_of(db)
    if version > SCHEMA_VERSION:
        raise Unusable(f"it was written by a newer aligner (schema {version}); upgrade aligner")
    if version < 1:
        raise Unusable(f"it is not an aligner state database (schema version {version})")
    for table, (since, columns) in _TABLES.items():
        if since > version:
            continue
        found = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not found:
            raise Unusable(f"its table {table} is missing")
        if not columns <= found:
            raise Unusable(f"its table {table} lacks {', '.join(sorted(columns - found))}")
    marks = ", ".join("?" * len(STATES))
    odd = db.execute(
        f"SELECT surface, key, state FROM items WHERE state NOT IN ({marks}) LIMIT 1", STATES
    ).fetchone()
    if odd:
        raise Unusable(f"item {odd[0]}/{odd[1]} has an unknown state {odd[2]!r}")
    return version


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Run every step after `version` (inside the caller's transaction)."""
    for step in range(version + 1, SCHEMA_VERSION + 1):
        for statement in _STEPS[step]:
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
