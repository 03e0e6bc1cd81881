"""Graph over httpx or the official msgraph-sdk: import time and modules loaded, side by side.

The figures behind the README's "Why httpx and not the official msgraph-sdk". Each import runs
in a fresh interpreter, `--runs` times, alternating; the fastest run is printed (the least
disturbed by a busy machine) with the median. msgraph-sdk is not a dependency of aligner: give
the python of a throwaway virtual environment that has it (`pip install msgraph-sdk`, which
brings httpx and msal too), so that every import is timed in the same interpreter.

    python benchmarks/graph_sdk.py --python /tmp/sdk/bin/python [--runs 15]

Figures only, never a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TIMED = (
    "import sys, time; t = time.perf_counter(); {code}; "
    "print((time.perf_counter() - t) * 1000, len(sys.modules))"
)
IMPORTS = [
    ("httpx", "import httpx"),
    ("msal", "import msal"),
    ("msgraph-sdk", "from msgraph import GraphServiceClient"),
    ("msgraph-sdk + azure-identity", "import msgraph, azure.identity"),
]


def once(python: str, code: str) -> tuple[float, int]:
    done = subprocess.run(
        [python, "-c", TIMED.format(code=code)], capture_output=True, text=True, check=True
    )
    millis, modules = done.stdout.split()
    return float(millis), int(modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default=sys.executable, help="a python with msgraph-sdk")
    options = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name, _ in IMPORTS}
    modules: dict[str, int] = {}
    for _ in range(options.runs):  # alternate, so a busy moment hits every import alike
        for name, code in IMPORTS:
            try:
                millis, loaded = once(options.python, code)
            except subprocess.CalledProcessError:
                continue  # not installed in that interpreter
            times[name].append(millis)
            modules[name] = loaded
    print(f"{'import':<30} {'fastest':>8} {'median':>8} {'modules':>8}")
    for name, found in times.items():
        if not found:
            print(f"{name:<30} {'not installed':>26}")
            continue
        fastest, median = min(found), statistics.median(found)
        print(f"{name:<30} {fastest:>6.0f}ms {median:>6.0f}ms {modules[name]:>8}")


if __name__ == "__main__":
    main()
