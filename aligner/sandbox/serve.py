"""`aligner sandbox`: serve the seeded sandbox until Ctrl-C or SIGTERM, with its own state dir.

The sandbox forgets everything when it stops, so aligner's state for it must not mix with the
state of real accounts: it gets a throwaway ALIGNER_STATE_DIR, removed on exit.
"""

from __future__ import annotations

import contextlib
import signal
import tempfile
import threading
from collections.abc import Iterator
from types import FrameType

from aligner.errors import AlignerError
from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox


def serve(port: int) -> Iterator[str]:
    """Start the sandbox, yield the lines to print, then block until asked to stop."""
    box = seeded_sandbox(port=port)
    try:
        box.start()
    except OSError as exc:
        raise AlignerError(
            f"cannot serve the sandbox on 127.0.0.1:{port} ({exc.strerror}); "
            "choose another --port, or --port 0 for any free one"
        ) from None
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with tempfile.TemporaryDirectory(prefix="aligner-sandbox-state-") as state_dir:
            env = {**SANDBOX_ENV(box.url), "ALIGNER_STATE_DIR": state_dir}
            yield from (f"export {name}={value}" for name, value in env.items())
            yield (
                f"# sandbox serving on {box.url} with a throwaway state dir (it forgets "
                "everything when it stops, and so does aligner's state for it) — Ctrl-C to stop"
            )
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how you stop it
                stop.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
        box.stop()
