"""Opening the state database: only a missing file means a first run.

A new database is built beside its place and linked in, so no run ever sees a half-made one. An
existing file must be an aligner database of a version this code reads (see `migrations`);
anything else is refused before a byte is written to it. Read-only opens (plan, status) never
write: a missing file reads as an empty store and an older schema through a migrated copy in
memory. No call waits longer than `busy_wait` for another process's lock.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from aligner.errors import LockTimeout, StateError, StateRefused
from aligner.state.lock import make_private_dir
from aligner.state.migrations import SCHEMA_VERSION, Unusable, check, migrate


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:  # SQLite itself rolls back on some errors (e.g. a full disk)
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class Database:
    path: Path
    readonly: bool = False
    busy_wait: float = 10.0

    def problem(self, exc: BaseException) -> StateError | LockTimeout:
        """The one line a person sees for a database, JSON or date error."""
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return LockTimeout(
                f"another process holds a write lock on the state database {self.path}; waited "
                f"{self.busy_wait:g}s for it (ALIGNER_LOCK_WAIT). Try again in a moment."
            )
        start = f"cannot use the state database {self.path} ({text})"
        if isinstance(exc, OSError) or "full" in text or "I/O" in text or "unable to open" in text:
            return StateError(
                f"{start}; nothing stored was lost: make room or fix access and run again"
            )
        return StateRefused(
            f"{start}; move it aside to start afresh (aligner then no longer knows what it "
            "changed), or point ALIGNER_STATE_DIR elsewhere"
        )

    def open(self) -> sqlite3.Connection:
        make_private_dir(self.path.parent)  # a folder aligner cannot make is an error even to read
        if not self.path.exists():
            if self.readonly:  # nothing applied yet: an empty store, and no file made
                return self._memory()
            self._create()
        if self.path.stat().st_size == 0:
            raise Unusable("it is empty, 0 bytes; only a missing file means a first run")
        if self.readonly:
            db = self.connect(f"file:{quote(str(self.path.absolute()))}?mode=ro", uri=True)
        else:
            db = self.connect(str(self.path))
        try:
            version = check(db)
            if self.readonly:
                if version < SCHEMA_VERSION:  # read an older database through a migrated copy
                    db = self._upgraded_copy(db)
                db.execute("PRAGMA query_only = 1")
                return db
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            with transaction(db):  # also proves at once that this run can write
                version = check(db)
                if version < SCHEMA_VERSION:
                    migrate(db, version)
        except BaseException:
            db.close()
            raise
        return db

    def connect(self, target: str, *, uri: bool = False) -> sqlite3.Connection:
        return sqlite3.connect(
            target, timeout=self.busy_wait, isolation_level=None, check_same_thread=False, uri=uri
        )

    def _memory(self) -> sqlite3.Connection:
        db = self.connect(":memory:")
        migrate(db, 0)
        db.execute("PRAGMA query_only = 1")
        return db

    def _upgraded_copy(self, db: sqlite3.Connection) -> sqlite3.Connection:
        copy = self.connect(":memory:")
        db.backup(copy)
        db.close()
        with transaction(copy):
            migrate(copy, check(copy))
        return copy

    def _create(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        os.close(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))  # private from the start
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                with transaction(db):
                    migrate(db, 0)
            finally:
                db.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:  # another run made it first: use theirs
                pass
            except OSError:  # a filesystem without hard links (runs hold the run lock here)
                if not self.path.exists():
                    os.replace(tmp, self.path)
        finally:
            for suffix in ("", "-wal", "-shm"):
                with suppress(FileNotFoundError):
                    os.unlink(f"{tmp}{suffix}")
