"""Every row of the performance issue's targets table that can be measured on this machine.

Whole processes run side by side and alternating where a row compares two commands; figures
that are exact (imported modules, API requests) are counted. Prints medians, ratios and the
target of each row. Figures only, never a test: a busy machine would make a timed test flaky.

    python benchmarks/targets.py [--runs 7] [--only startup,imports,calls,apply4,...]

Start-up rows come from `startup.py` (run alone for more of them).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from startup import PAIRS, wall  # the start-up pairs, not duplicated here

from aligner.core.daemon import drift_check_due, is_done, wakeups
from aligner.core.rehearsal import sandbox_settings
from aligner.core.session import open_session
from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox
from aligner.sandbox.server import Sandbox
from aligner.state.store import Store
from aligner.surfaces import REGISTRY
from aligner.theme.schema import ThemeConfig
from aligner.theme.validation import load_theme

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example.toml"
VENDOR_SDKS = (
    "slack_sdk",
    "googleapiclient",
    "google_auth_oauthlib",
    "httplib2",
    "apscheduler",
    "cryptography",
    "msal",
    "httpx",
)
IMPORT_ALL = """
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""
BLOCK = """
[[calendar.blocks]]
id = "b{i:03}"
title = "Block {i}"
start = "-{m}m"
duration = "5m"
"""


def row(measure: str, figure: str, target: str, met: bool | None) -> None:
    verdict = "" if met is None else ("ok" if met else "MISSED")
    print(f"{measure:<58} {figure:<34} {target:<26} {verdict}")


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def theme_text(*, calendar: bool = True, blocks: int | None = None, start: int = 120) -> str:
    """The example theme, its calendar off, or with `blocks` blocks of its own from `start`
    minutes before the interview."""
    text = EXAMPLE.read_text(encoding="utf-8")
    if not calendar:
        return text.replace("[calendar]\nenabled = true", "[calendar]\nenabled = false")
    if blocks is None:
        return text
    head, rest = text.split("[[calendar.blocks]]", 1)
    tail = rest[rest.index("[signature]") :]
    made = "".join(BLOCK.format(i=i, m=start + 5 * i) for i in range(blocks))
    return head + made + "\n" + tail


@contextmanager
def place(text: str) -> Iterator[tuple[Path, Path]]:
    """A theme file and a state folder, both fresh."""
    with tempfile.TemporaryDirectory(prefix="aligner-bench-") as folder:
        theme = Path(folder) / "theme.toml"
        theme.write_text(text, encoding="utf-8")
        state = Path(folder) / "state"
        state.mkdir(mode=0o700)
        yield theme, state


def env_for(box: Sandbox | None, theme: Path, state: Path, now: datetime) -> dict[str, str]:
    sandbox = SANDBOX_ENV(box.url) if box is not None else {}
    return {
        **os.environ,
        **sandbox,
        "ALIGNER_CONFIG": str(theme),
        "ALIGNER_STATE_DIR": str(state),
        "ALIGNER_NOW": iso(now),
    }


# -- start-up and imports ---------------------------------------------------------------------


def startup(runs: int) -> None:
    with place(theme_text()) as (theme, state):
        env = env_for(None, theme, state, load_theme(theme).config.schedule.window_start)
        for name, command, floor, target in PAIRS:
            mine, base = [], []
            for _ in range(runs):
                mine.append(wall(command, env))
                base.append(wall(floor, env))
            m, b = statistics.median(mine), statistics.median(base)
            goal = f"≤ {target}× its floor" if target else "(no target: same floor)"
            row(
                f"start-up: {name}",
                f"{m * 1000:.0f} ms / {b * 1000:.0f} ms = {m / b:.2f}×",
                goal,
                None if target is None else m / b <= target,
            )


def imported(args: list[str], env: dict[str, str], *, whole: bool = False) -> set[str]:
    """The top-level packages a whole process imported (python -X importtime); with `whole`,
    every module by its full name."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "aligner", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)", done.stderr, re.MULTILINE)
    return set(found) if whole else {name.split(".")[0] for name in found}


def imports() -> None:
    with seeded_sandbox() as box, place(theme_text()) as (theme, state):
        now = load_theme(theme).config.schedule.window_start
        env = env_for(box, theme, state, now)
        for command in (["--help"], ["validate"], ["timeline"], ["status"]):
            sdks = sorted(imported(command, env) & set(VENDOR_SDKS))
            row(
                f"imports: aligner {command[0]}",
                ", ".join(sdks) or "no vendor SDK",
                "none",
                not sdks,
            )
        init_dir = state / "init"
        sdks = sorted(imported(["init", str(init_dir / "theme.toml")], env) & set(VENDOR_SDKS))
        row("imports: aligner init", ", ".join(sdks) or "no vendor SDK", "none", not sdks)
    slack_only = theme_text(calendar=False).replace(
        "[signature]\nenabled = true", "[signature]\nenabled = false"
    )
    slack_only = slack_only.replace("[note]\nenabled = true", "[note]\nenabled = false")
    with seeded_sandbox() as box, place(slack_only) as (theme, state):
        now = load_theme(theme).config.schedule.window_start
        box.clock.pinned = now
        for verb in ("plan", "apply"):
            got = imported([verb], env_for(box, theme, state, now)) & set(VENDOR_SDKS)
            google = got & {"googleapiclient", "httplib2"}
            row(
                f"imports: aligner {verb}, only Slack enabled",
                ", ".join(sorted(got)) or "none",
                "no Google SDK",
                not google,
            )


# -- API calls when nothing can change ---------------------------------------------------------


def live(box: Sandbox, config: ThemeConfig, state: Path, moments: list[datetime]) -> int:
    """Apply at each moment as `aligner apply` does; the requests made."""
    settings = sandbox_settings(box.url, state)
    before = len(box.requests())
    for at in moments:
        box.clock.pinned = at
        with open_session(settings, config, lock=True, busy_at=at) as session:
            session.apply(at)
    return len(box.requests()) - before


def calls() -> None:
    with seeded_sandbox() as box, place(theme_text()) as (theme, state):
        config = load_theme(theme).config
        steps = sorted({w.at for w in wakeups(config, config.schedule.window_start - timedelta(1))})
        live(box, config, state, [config.schedule.window_start - timedelta(hours=1), *steps])
        end = config.schedule.window_end
        later = [end + timedelta(hours=2), end + timedelta(days=1), end + timedelta(days=30)]
        made = live(box, config, state, later)
        row("API calls: apply after the window, 3 later runs", f"{made} requests", "0", made == 0)
    with seeded_sandbox() as box, place(theme_text(calendar=False)) as (theme, state):
        config = load_theme(theme).config
        early = config.schedule.window_start - timedelta(days=2)
        made = live(box, config, state, [early, early + timedelta(hours=5)])
        row("API calls: apply before the window, nothing due", f"{made} requests", "0", made == 0)


# -- writes -------------------------------------------------------------------------------------


def apply4(runs: int, latency: float) -> None:
    """`aligner apply` writing once on each of 4 surfaces, every request `latency` late, with
    its state database already there (a first-ever run also creates it: about 0.1 s more)."""
    text = theme_text(blocks=1)  # one block, starting 2 h before the interview
    timings, floors, writes = [], [], 0
    floor_args: list[str] = []  # set on the first run
    for run in range(runs):
        with seeded_sandbox() as box, place(text) as (theme, state):
            config = load_theme(theme).config
            note_at = max(
                w.at
                for w in wakeups(config, config.schedule.window_start)
                if any("note" in r for r in w.reasons)
            )
            now = note_at + timedelta(seconds=30)
            box.clock.pinned = now
            box.inject("*", "latency", seconds=latency, times=10_000)
            Store(state / "state.db").close()  # an existing database, as on every later run
            env = env_for(box, theme, state, now)
            if run == 0:  # the floor: import every module this very apply imports
                modules = imported(["plan"], env, whole=True)
                modules = {m for m in modules if "__main__" not in m}
                floor_args = ["-c", IMPORT_ALL, *sorted(modules)]
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "aligner", "apply", "--quiet"],
                env=env,
                capture_output=True,
                check=False,
            )
            timings.append(time.perf_counter() - started)
            writes = len({r.service for r in box.requests(writes=True)})
        floors.append(wall(floor_args, os.environ.copy()))
    t, f = statistics.median(timings), statistics.median(floors)
    row(
        f"apply, one write on each of {writes} surfaces, {latency:g} s/request",
        f"{t:.2f} s (import floor {f:.2f} s)",
        f"≤ floor + 2.3 s = {f + 2.3:.2f} s",
        t <= f + 2.3,
    )


def blocks(runs: int, latency: float, count: int = 100) -> None:
    """The first apply of `count` blocks, in process: its wall time with `latency` on every
    request, less the same apply with none (the local work: the state database's durable
    transactions, several per block), is its network time. Alternating, with the pool and one
    at a time."""
    text = theme_text(blocks=count, start=600)
    calendar = next(cls for cls in REGISTRY if "calendar" in cls.scopes[0])
    pool = calendar.parallel_writes
    kinds = [(pool, latency), (pool, 0.0), (1, latency), (1, 0.0)]
    figures: dict[tuple[int, float], list[float]] = {kind: [] for kind in kinds}
    inserts = 0
    for _ in range(runs):
        for width, late in kinds:
            with seeded_sandbox() as box, place(text) as (theme, state):
                config = load_theme(theme).config
                now = config.schedule.window_start - timedelta(hours=1)
                box.clock.pinned = now
                if late:
                    box.inject("*", "latency", seconds=late, times=10_000)
                settings = sandbox_settings(box.url, state)
                calendar.parallel_writes = width
                try:
                    with open_session(settings, config, lock=True, busy_at=now) as session:
                        started = time.perf_counter()
                        session.apply(now)
                        figures[width, late].append(time.perf_counter() - started)
                finally:
                    calendar.parallel_writes = pool
                inserts = len(box.requests(operation="calendar.events.insert"))

    def network(width: int) -> float:
        paired = zip(figures[width, latency], figures[width, 0.0], strict=True)
        return statistics.median(slow - local for slow, local in paired)

    wall_time = statistics.median(figures[pool, latency])
    local = statistics.median(figures[pool, 0.0])
    row(
        f"first apply of {count} blocks, {latency * 1000:g} ms/request ({inserts} inserts)",
        f"network {network(pool):.2f} s (wall {wall_time:.2f} s, local {local:.2f} s); "
        f"one at a time: network {network(1):.2f} s",
        "≤ 1.5 s network time",
        network(pool) <= 1.5,
    )


# -- status on a long journal --------------------------------------------------------------------


def journal_of(state: Path, rows: int, now: datetime) -> None:
    with Store(state / "state.db"):
        pass
    db = sqlite3.connect(state / "state.db")
    items = [("slack", "status"), ("calendar", "b000"), ("signature", "me"), ("note", "draft")]
    db.executemany(
        "INSERT INTO journal (at, surface, key, action, before, after, outcome, detail) "
        "VALUES (?, ?, ?, 'update', NULL, '\"x\"', 'applied', '')",
        (
            ((now - timedelta(seconds=rows - i)).isoformat(), *items[i % len(items)])
            for i in range(rows)
        ),
    )
    db.commit()
    db.close()


def status(runs: int) -> None:
    with place(theme_text()) as (theme, big), place(theme_text()) as (_, small):
        now = load_theme(theme).config.schedule.window_start + timedelta(hours=1)
        journal_of(big, 100_000, now)
        journal_of(small, 10, now)
        command = ["-m", "aligner", "status"]
        many, few = [], []
        for _ in range(runs):
            many.append(wall(command, env_for(None, theme, big, now)))
            few.append(wall(command, env_for(None, theme, small, now)))
    m, f = statistics.median(many), statistics.median(few)
    row(
        "aligner status, 100,000 journal rows vs 10",
        f"{m * 1000:.0f} ms / {f * 1000:.0f} ms = {m / f:.2f}×",
        "≤ 1.2×",
        m / f <= 1.2,
    )


# -- the daemon's whole life -------------------------------------------------------------------


def daemon(
    check_every: timedelta = timedelta(minutes=15), poll: timedelta = timedelta(minutes=5)
) -> None:
    """The daemon's schedule, simulated against the sandbox: a reconcile at start, one at each
    transition, a drift check every `check_every` that runs only inside the window; until done."""
    with seeded_sandbox() as box, place(theme_text()) as (theme, state):
        config = load_theme(theme).config
        start = config.schedule.window_start - timedelta(days=1)
        jobs: list[tuple[datetime, str]] = [(start, "start")]
        jobs += [(w.at, "transition") for w in wakeups(config, start)]
        tick = start + check_every
        while tick <= config.schedule.window_end + timedelta(days=1):
            jobs.append((tick, "drift"))
            tick += check_every
        reconcile: Callable[[datetime], int] = lambda at: live(box, config, state, [at])  # noqa: E731
        made, runs, end = 0, 0, start
        for at, why in sorted(jobs):
            if why == "drift" and not drift_check_due(config, at, True):
                continue
            made += reconcile(at)
            runs += 1
            end = at
            if is_done(config, at, True):
                break
        enabled = [cls for cls in REGISTRY if cls.enabled(config)]
        polls = int((end - start) / poll) + 1
        poller = polls * len(enabled)
    row(
        f"daemon API calls over the theme's life ({(end - start) / timedelta(hours=1):.0f} h)",
        f"{made} ({runs} reconciles) vs poller {poller} = 1/{poller / max(made, 1):.1f}",
        "≤ 1/5 of the poller",
        made * 5 <= poller,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="startup,imports,calls,apply4,blocks,status,daemon")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    print(f"{'measure':<58} {'median':<34} {'target':<26}")
    if "startup" in parts:
        startup(args.runs)
    if "imports" in parts:
        imports()
    if "calls" in parts:
        calls()
    if "apply4" in parts:
        apply4(args.runs, 1.0)
    if "blocks" in parts:
        blocks(args.runs, 0.05)
    if "status" in parts:
        status(args.runs)
    if "daemon" in parts:
        daemon()


if __name__ == "__main__":
    main()
