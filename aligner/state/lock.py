"""One run at a time: an exclusive file lock beside the state database."""

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
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
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


def _holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
