"""A plan says why a surface has nothing to change when the reason is not obvious."""

from __future__ import annotations

from pathlib import Path

from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.toml"
AFTER_THE_LAST_BLOCK = "2026-12-03T01:00:00+00:00"  # 17:00 PST, the window still open
BEFORE_THE_BLOCKS = "2026-12-02T16:00:00+00:00"


def test_a_calendar_whose_blocks_have_all_started_says_so(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    example = Aligner(env, EXAMPLE, sandbox)
    plan = example("plan", now=AFTER_THE_LAST_BLOCK)
    assert plan.exit_code == 0, plan.output
    calendar = plan.stdout.split("Google Calendar blocks\n", 1)[1].splitlines()[0]
    assert calendar == (
        "  no changes: all 4 blocks have already started; started blocks are left as they are"
    )
    assert "4 blocks" not in example("plan", now=BEFORE_THE_BLOCKS).stdout  # blocks to create
