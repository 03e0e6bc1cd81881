"""Plan wall time against the sandbox with added latency on every API call.

A plan reads every enabled surface concurrently, so its wall time should be close to one
surface's latency, not the sum. Prints figures; asserts nothing (not a test).

    python benchmarks/plan_wall_time.py [--latency 0.3] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from aligner.core.rehearsal import sandbox_settings
from aligner.core.session import open_session
from aligner.sandbox.seed import seeded_sandbox
from aligner.theme.validation import load_theme

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    config = load_theme(EXAMPLE).config
    now = config.schedule.window_start
    with tempfile.TemporaryDirectory() as state_dir, seeded_sandbox() as box:
        box.clock.pinned = now
        settings = sandbox_settings(box.url, Path(state_dir))
        timings, reads = [], 0
        for _ in range(args.runs):
            box.inject("*", "latency", seconds=args.latency, times=1000)
            box.clear_log()
            with open_session(settings, config, lock=False) as session:
                started = time.perf_counter()
                plan = session.plan(now)
                timings.append(time.perf_counter() - started)
                surfaces = len(session.surfaces)
            reads = len(box.requests())
            box.faults.clear()
    print(f"surfaces planned:        {surfaces} ({', '.join(s.surface for s in plan.surfaces)})")
    print(f"API reads per plan:      {reads}")
    print(f"added latency per call:  {args.latency * 1000:.0f} ms")
    print(
        f"plan wall time (median): {statistics.median(timings) * 1000:.0f} ms over {args.runs} runs"
    )
    print(f"if reads were serial:    >= {reads * args.latency * 1000:.0f} ms")


if __name__ == "__main__":
    main()
