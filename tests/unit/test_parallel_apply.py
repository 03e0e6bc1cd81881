"""`apply` writes the surfaces side by side, each surface's own changes in order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aligner.core.rehearsal import sandbox_settings
from aligner.core.session import open_session
from aligner.sandbox.server import Sandbox
from aligner.theme.validation import load_theme
from tests.conftest import REPO

EXAMPLE = REPO / "config" / "example.toml"
SLOW = 1.0
FIRST_WRITES = ("users.profile.set", "gmail.sendAs.patch", "calendar.events.insert")


def test_the_surfaces_writes_overlap_and_outcomes_keep_plan_order(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    at = config.schedule.window_start + timedelta(minutes=1)
    sandbox.clock.pinned = at
    for operation in FIRST_WRITES:
        sandbox.inject(operation, "latency", seconds=SLOW)
    with open_session(settings, config, lock=True, busy_at=at) as session:
        result = session.apply(at)
    assert not result.failed
    slow = [sandbox.requests(operation=op, writes=True)[0] for op in FIRST_WRITES]
    assert len({r.service for r in slow}) == len(FIRST_WRITES)
    # A request logged at `at` started no later than `at - SLOW`: two writes overlapped when
    # each started before the other finished. One after another, no pair would.
    overlapping = [
        (a.operation, b.operation)
        for i, a in enumerate(slow)
        for b in slow[i + 1 :]
        if b.at - SLOW < a.at and a.at - SLOW < b.at
    ]
    assert len(overlapping) == 3, [(r.operation, r.at) for r in slow]
    planned = [p.surface for p in result.plan.surfaces for c in p.changes]
    done = [o.change.surface for o in result.outcomes]
    assert done == [s for s in planned if s in done]
    # each surface's own writes stay in its plan's order
    inserts = [r.body for r in sandbox.requests(operation="calendar.events.insert")]
    assert len(inserts) == 3
