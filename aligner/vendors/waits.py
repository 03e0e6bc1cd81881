"""How long one run may spend waiting on a vendor: Retry-After and backoff, capped in total.

Each connection a surface opens for a run gets one `WaitBudget` of ALIGNER_RETRY_CAP seconds
(default 30). Every wait before a retry is taken from it; a wait it cannot cover is not made:
the call fails for this run with RATE_LIMITED (or the vendor's own error), and the next run tries
again. So a 429 asking for an hour costs a run nothing but one request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

DEFAULT_CAP = 30.0
RATE_LIMITED = "rate limited; the next run will try again"


class WaitBudget:
    """Seconds of waiting left for one run (thread-safe).

    `WaitBudget.sleep` makes the waits; the test suite swaps in one that records them and
    returns at once (the budget is taken exactly as before), so a retry costs no wall time."""

    sleep: ClassVar[Callable[[float], None]] = time.sleep

    def __init__(self, cap: float = DEFAULT_CAP) -> None:
        self.cap = max(0.0, cap)
        self.left = self.cap
        self.exhausted = False  # a wait was refused: the caller should say RATE_LIMITED
        self._lock = threading.Lock()

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds` if the budget covers them and return True; else False, no sleep."""
        seconds = max(0.0, seconds)
        with self._lock:
            if seconds > self.left:
                self.exhausted = True
                return False
            self.left -= seconds
        WaitBudget.sleep(seconds)
        return True
