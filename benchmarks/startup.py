"""Start-up of whole processes, side by side and alternating: medians and ratios.

Each pair runs a command and its floor (what it cannot avoid importing) in turn, `--runs` times,
and prints the medians and their ratio against the target of the performance issue:

    --help      vs  python -c "import click"                       target ≤ 2.5×
    validate    vs  python -c "import pydantic, jinja2, aligner.theme.schema, …"  target ≤ 1.3×
    status, timeline, init: the same floor as validate (they read the theme, call no API)

Figures only, never a test (a busy machine would make a timed test flaky); the tests check what
is exact instead: the modules each command imports (tests/unit/test_architecture.py).

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example.toml"
THEME_FLOOR = (
    "import pydantic, jinja2.sandbox, aligner.theme.schema, aligner.theme.templates, "
    "aligner.theme.validation"
)
PAIRS = [
    ("aligner --help", ["-m", "aligner", "--help"], ["-c", "import click"], 2.5),
    ("aligner validate", ["-m", "aligner", "validate"], ["-c", THEME_FLOOR], 1.3),
    ("aligner timeline", ["-m", "aligner", "timeline"], ["-c", THEME_FLOOR], None),
    ("aligner status", ["-m", "aligner", "status"], ["-c", THEME_FLOOR], None),
]


def wall(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "ALIGNER_CONFIG": str(EXAMPLE), "ALIGNER_STATE_DIR": state}
        print(f"{'command':<18} {'median':>8} {'floor':>8} {'ratio':>6}  target")
        for name, command, floor, target in PAIRS:
            mine, base = [], []
            for _ in range(runs):  # alternate, so a busy moment hits both alike
                mine.append(wall(command, env))
                base.append(wall(floor, env))
            m, b = statistics.median(mine), statistics.median(base)
            goal = f"≤ {target}×" if target else ""
            verdict = "" if target is None else ("ok" if m / b <= target else "MISSED")
            print(f"{name:<18} {m * 1000:7.0f}ms {b * 1000:7.0f}ms {m / b:5.2f}×  {goal} {verdict}")


if __name__ == "__main__":
    main()
