"""Whether a write must read its item again first, for vendors with no conditional write.

Slack (users.profile.set), Gmail (sendAs.patch) and Teams (setStatusMessage) take no etag, so a
person's edit that lands between aligner's read and its write would be overwritten. Reading again
right before the write and comparing narrows that window to the time between the two calls.

A second read only narrows it by the age of the first. When the plan's read answered less than
`REREAD_AFTER` ago (an `apply` whose reads all answer quickly), the window is already at most
one round trip plus that quarter of a second, and a re-read would shrink it by no more than the
quarter of a second while adding a whole round trip to every write: an edit landing while
either answer travels is lost either way. So each read marks the time it answered, and the
first write of each item within `REREAD_AFTER` of it relies on that read; any later write, or
one after a slower plan (another surface kept the run waiting, a retry), reads again. What
remains is the race every unconditional write has (an edit less than `REREAD_AFTER` plus a
round trip before the write is overwritten), and the next run's read reports any later edit as
a hand edit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

REREAD_AFTER = 0.25  # seconds: a read younger than this is as fresh as a re-read would be

clock: Callable[[], float] = time.monotonic  # a seam for tests (they move a fake clock)


class LastRead:
    """When this run's read of a surface answered, and which items have relied on it."""

    def __init__(self) -> None:
        self._at: float | None = None
        self._used: set[str] = set()
        self._lock = threading.Lock()  # a surface's items may be written side by side

    def mark(self) -> None:
        """The read just answered: every item may rely on it once."""
        with self._lock:
            self._at, self._used = clock(), set()

    def fresh_for(self, key: str) -> bool:
        """True when `key` may skip its re-read: its first write, right after the read."""
        with self._lock:
            if self._at is None or key in self._used or clock() - self._at >= REREAD_AFTER:
                return False
            self._used.add(key)
            return True
