"""Many blocks are written from a small pool, each exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from aligner.sandbox.server import LoggedRequest, Sandbox
from tests.conftest import BEFORE, Aligner
from tests.surfaces.calendar.test_calendar_surface import blocks, calendar_theme

SLOW = 0.05
POOL = 8
MANY = {
    f"b{i:03}": f"""
[[calendar.blocks]]
id = "b{i:03}"
title = "Block {i}"
start = "-{600 + 5 * i}m"
duration = "5m"
"""
    for i in range(100)
}


def most_at_once(requests: list[LoggedRequest], slow: float) -> int:
    """A request logged at `at` was in flight over at least [at - slow, at]: the most of these
    spans that share an instant is a lower bound on how many ran at once."""
    ends = sorted(r.at for r in requests)
    return max(sum(1 for e in ends if end - slow < e <= end) for end in ends)


def test_a_hundred_blocks_go_out_from_a_bounded_pool_once_each(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    theme = calendar_theme(tmp_path / "theme.toml", blocks=MANY)
    aligner = Aligner(env, theme, sandbox)
    sandbox.inject("calendar.events.insert", "latency", seconds=SLOW, times=len(MANY))
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    inserts = sandbox.requests("calendar", "calendar.events.insert")
    assert len(inserts) == len(MANY)
    assert len({json.loads(r.body)["id"] for r in inserts}) == len(MANY)  # each its own id
    assert set(blocks(sandbox)) == set(MANY)
    assert 2 <= most_at_once(inserts, SLOW) <= POOL
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert sandbox.requests("calendar", writes=True) == []
