"""Issue 11, "Keep it true": SIGKILL a real `aligner apply` process at many points across the
example theme's timeline; after each kill an apply runs to completion, then the invariants of
`world.World` are checked (note at most once, no duplicate event, the originals back after the
window).

The sandbox runs in this process, on a clock pinned to the run's ALIGNER_NOW. Kills happen at two
kinds of points, chosen by a seeded random generator so every run kills at the same places:
- at the n-th request (or n-th write) the sandbox receives, either before it is carried out or
  after it was carried out and before its answer leaves (the write happened; aligner never hears
  of it);
- after a random delay (between requests: while starting, reading the store, committing).

Default: 10 kills; `--slow` (or ALIGNER_SLOW=1): 60.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.seed import seeded_sandbox
from aligner.sandbox.server import Sandbox
from tests.reliability.world import INSTANTS, World

# Where the timeline writes: blocks created; Slack and signature themed; the note; given back.
KILL_AT = (INSTANTS[0], INSTANTS[2], INSTANTS[4], INSTANTS[6])

SEED = 11
KILL_TIMEOUT = 60  # seconds a single aligner process may take before the test gives up on it


class Killer:
    """Kills the process at the n-th sandbox request, before or after the request is served."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.target = 0
        self.after_commit = False
        self.writes_only = False
        self.seen = 0
        self.killed_at: str | None = None
        self._serve = box._serve

    def arm(
        self, proc: subprocess.Popen[bytes], target: int, after_commit: bool, writes_only: bool
    ) -> None:
        with self.lock:
            self.proc, self.target, self.after_commit = proc, target, after_commit
            self.writes_only = writes_only
            self.seen, self.killed_at = 0, None

    def disarm(self) -> None:
        with self.lock:
            self.proc = None

    def serve(self, service: Service, routed: Routed, request: Request) -> Response | None:
        with self.lock:
            self.seen += routed.writes or not self.writes_only
            hit = self.proc is not None and self.seen == self.target
        if hit and not self.after_commit:
            self._kill(f"before {routed.operation}")
            return None
        response = self._serve(service, routed, request)
        if hit and self.after_commit:
            self._kill(f"after {routed.operation} (answer lost)")
            return None
        return response

    def _kill(self, where: str) -> None:
        with self.lock:
            if self.proc is not None:
                self.proc.send_signal(signal.SIGKILL)
                self.killed_at = where


@contextmanager
def killable(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Killer]:
    killer = Killer(box)
    monkeypatch.setattr(box, "_serve", killer.serve)
    yield killer


def expected_requests(world: World) -> tuple[int, int]:
    """About how many requests an apply makes now: the reads of a plan, and a write or two for
    each change it shows."""
    before = len(world.box.requests())
    result = world.run("plan", "--json", now=world.now.isoformat())
    reads = len(world.box.requests()) - before
    changes = len(json.loads(result.stdout)["changes"])
    return max(1, reads), 2 * changes


def start_apply(world: World) -> subprocess.Popen[bytes]:
    env = {**os.environ, **world.env, "ALIGNER_NOW": world.now.isoformat()}
    return subprocess.Popen(
        [sys.executable, "-m", "aligner", "apply", "--config", str(world.theme)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.heavy(6)
@pytest.mark.parametrize(("mode", "delivery"), [("append", "send"), ("replace", "draft")])
def test_sigkill_anywhere_then_a_full_apply_keeps_the_invariants(
    mode: str, delivery: str, slow: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(f"{SEED}-{mode}-{delivery}")
    kills = 30 if slow else 5
    with seeded_sandbox() as box, killable(box, monkeypatch) as killer:
        world = World(box, tmp_path, mode, delivery)
        done: list[str] = []
        for index in range(kills):
            at = KILL_AT[index * len(KILL_AT) // kills]
            if at != world.now:
                world.move_clock(at)
            reads, writes = expected_requests(world)
            proc = start_apply(world)
            if index % 3 == 2:  # between requests, after a random delay
                killer.arm(proc, 0, False, False)
                try:
                    proc.wait(timeout=rng.uniform(0.2, 2.0))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    killer.killed_at = "after a delay"
            elif index % 3 == 1:  # at a write, mostly after it was carried out
                killer.arm(proc, rng.randint(1, max(1, writes)), rng.random() < 0.75, True)
            else:  # at any request
                killer.arm(proc, rng.randint(1, reads + writes), rng.random() < 0.5, False)
            _, errors = proc.communicate(timeout=KILL_TIMEOUT)
            code = proc.returncode
            killer.disarm()
            stderr = errors.decode()
            assert "Traceback" not in stderr, stderr
            where = killer.killed_at or f"not killed (exit {code})"
            done.append(where)
            world.log.append(f"apply as a process, SIGKILL {where}")
            world.check_all()  # a killed run breaks nothing either
            assert world.aligner("apply") == 0, world.why("the apply after a kill failed")
        assert any(w.startswith(("before", "after")) for w in done), done  # kills did happen
        last = INSTANTS[-1]
        if world.now != last:  # live the rest of the timeline
            world.move_clock(last)
            assert world.aligner("apply") == 0, world.why("the last apply failed")
        world.check_given_back("at the end of the timeline")
        delivered = len(world.note_drafts()) + len(world.note_sent())
        assert delivered == 1, world.why(f"the note was delivered {delivered} times, not once")
