"""A spinner on stderr while aligner waits on the network for more than a second.

Only on a terminal: never when stderr is not a TTY (cron, pipes, files), under --quiet or --json.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def wanted(stream: TextIO, *, quiet: bool = False, as_json: bool = False) -> bool:
    return not quiet and not as_json and stream.isatty()


@contextmanager
def waiting(
    what: str,
    *,
    quiet: bool = False,
    as_json: bool = False,
    stream: TextIO | None = None,
    delay: float = 1.0,
) -> Iterator[None]:
    """Show `⠋ waiting for <what>…` after `delay` seconds, until the block ends."""
    out = stream or sys.stderr
    if not wanted(out, quiet=quiet, as_json=as_json):
        yield
        return
    done = threading.Event()

    def spin() -> None:
        if done.wait(delay):
            return
        frame = 0
        while not done.is_set():
            out.write(f"\r{FRAMES[frame % len(FRAMES)]} waiting for {what}…")
            out.flush()
            frame += 1
            done.wait(0.1)
        out.write("\r\x1b[K")  # leave the line clean for what comes next
        out.flush()

    thread = threading.Thread(target=spin, name="aligner-spinner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
