"""Nobody waits long: another process's SQLite write lock costs at most ALIGNER_LOCK_WAIT, and
read-only commands read through it. The run lock always names its holder."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aligner.errors import LockTimeout
from aligner.sandbox.server import Sandbox
from aligner.state.lock import exclusive
from tests.conftest import DURING, Aligner


@contextmanager
def sqlite_writer(path: Path) -> Iterator[None]:
    """Another process's open write transaction (as a `sqlite3` shell or a stuck run holds)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE items SET updated_at = updated_at")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def test_a_held_write_lock_makes_apply_exit_1_after_the_lock_wait(
    aligner: Aligner, state_dir: Path, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    with sqlite_writer(state_dir / "state.db"):
        started = time.monotonic()
        result = aligner("apply", now=DURING, ALIGNER_LOCK_WAIT="0.5")
        took = time.monotonic() - started
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if not line.startswith("note:")]
    assert errors == [
        f"error: another process holds a write lock on the state database "
        f"{state_dir / 'state.db'}; waited 0.5s for it (ALIGNER_LOCK_WAIT). "
        "Try again in a moment."
    ]
    assert took < 5
    assert len(sandbox.requests("slack", "users.profile.set")) == 1  # no write without the store


@pytest.mark.parametrize("command", ["status", "plan"])
def test_read_only_commands_read_while_another_process_writes(
    command: str, aligner: Aligner, state_dir: Path
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    with sqlite_writer(state_dir / "state.db"):
        started = time.monotonic()
        result = aligner(command, now=DURING, ALIGNER_LOCK_WAIT="30")
        assert time.monotonic() - started < 10
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["status", "plan"])
def test_read_only_commands_make_no_database(
    command: str, aligner: Aligner, state_dir: Path
) -> None:
    result = aligner(command, now=DURING)
    assert result.exit_code == 0, result.output
    assert not (state_dir / "state.db").exists()


def test_the_lock_message_names_a_holder_that_has_only_just_taken_the_lock(
    tmp_path: Path,
) -> None:
    """The holder writes its PID a moment after taking the lock; the waiter waits for it."""
    path = tmp_path / "aligner.state.lock"
    path.touch()
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    later = threading.Timer(0.3, lambda: os.pwrite(fd, b"424242", 0))
    later.start()
    try:
        held = pytest.raises(LockTimeout, match=r"another aligner run \(pid 424242\)")
        with held, exclusive(path, 0.05):
            pass
    finally:
        later.join()
        os.close(fd)


def test_a_released_lock_holds_no_stale_pid(tmp_path: Path) -> None:
    path = tmp_path / "aligner.state.lock"
    with exclusive(path, 1):
        assert path.read_text().strip() == str(os.getpid())
    assert path.read_text() == ""
