"""One run at a time: an exclusive file lock beside the state database (POSIX `flock`).

The lock file holds the holder's PID while it is held and is emptied before it is let go, so a
waiter that finds it empty knows the holder is about to write its PID, and waits briefly for it.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aligner.errors import LockTimeout, StateError


@contextmanager
def exclusive(path: Path, wait_seconds: float) -> Iterator[None]:
    """Hold an exclusive lock on `path`, waiting up to `wait_seconds` for another holder."""
    fd = _open(path)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise LockTimeout(
                        f"another aligner run{holder} is applying changes; waited "
                        f"{wait_seconds:g}s for it (lock: {path}). Try again in a moment."
                    ) from None
                time.sleep(0.05)
        os.pwrite(fd, f"{os.getpid():<{_PID_WIDTH}}".encode(), 0)  # one write: never half a PID
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # still held: the next holder starts from an empty file
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    make_private_dir(path.parent)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise _unusable(path.parent, exc) from None


def make_private_dir(folder: Path) -> None:
    """Create the state folder readable by its owner only (it holds your originals)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(folder, exc) from None


def _unusable(folder: Path, exc: OSError) -> StateError:
    return StateError(
        f"cannot use the state directory {folder} ({exc.strerror}): set ALIGNER_STATE_DIR to a "
        "folder you can write"
    )


_PID_WIDTH = 20
_PID_GRACE = 1.0  # how long a holder may take between taking the lock and writing its PID


def _holder(fd: int) -> str:
    """' (pid N)' of the holder, waiting up to _PID_GRACE for one that has just taken the lock."""
    deadline = time.monotonic() + _PID_GRACE
    while True:
        try:
            pid = os.pread(fd, _PID_WIDTH, 0).decode(errors="replace").strip()
        except OSError:
            return ""
        if pid.isdigit():
            return f" (pid {pid})"
        if time.monotonic() >= deadline:
            return ""
        time.sleep(0.02)
