"""Shared fixtures: a live sandbox on loopback, an isolated environment, and a CLI runner."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from aligner.cli import cli
from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import USER_ID
from aligner.vendors.waits import WaitBudget

REPO = Path(__file__).resolve().parent.parent

# Property tests: no per-example deadline (CI machines are busy) and no example database on disk.
settings.register_profile("aligner", deadline=None, database=None)
settings.load_profile("aligner")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=os.environ.get("ALIGNER_SLOW") == "1",
        help="Run the reliability suite (tests/reliability) longer; also ALIGNER_SLOW=1.",
    )


RAM_DISK = Path("/dev/shm")


def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders (each test's own state database among them) go to a RAM disk when the
    machine has one: SQLite syncs every commit to the disk, milliseconds each on a disk and
    nothing in RAM, and the suite commits thousands of times. No test here is about surviving a
    power cut. `--basetemp` or PYTEST_DEBUG_TEMPROOT still choose the place."""
    if config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return
    if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK | os.X_OK):
        tempfile.tempdir = str(RAM_DISK)  # tmp_path, and tempfile.mkdtemp in tests


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` starts one worker more than there are cores: many tests spend much of their
    time waiting (daemons on the real clock, processes starting, sandbox latency), and with one
    worker per core a core idles through each wait. Each worker costs seconds of CPU before its
    first test (it imports and rewrites every test module), so not more: on 2 cores, 3 workers
    took 0.96x the wall time and 0.88x the CPU of 4 (medians of 3 paired runs of a fresh clone).
    PYTEST_XDIST_AUTO_NUM_WORKERS still rules."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `heavy(seconds)` run first, longest first: under pytest-xdist the long ones
    start at once instead of leaving one worker busy at the end while the other waits. The
    seconds are a rough cost on one core; they only order the tests."""

    def cost(item: pytest.Item) -> float:
        mark = item.get_closest_marker("heavy")
        return -float(mark.args[0] if mark and mark.args else 1.0) if mark else 0.0

    items.sort(key=cost)  # stable: everything else keeps its usual order


@pytest.fixture
def slow(request: pytest.FixtureRequest) -> bool:
    """Whether --slow (or ALIGNER_SLOW=1) asked for the long reliability runs."""
    return bool(request.config.getoption("--slow"))


BASE_THEME = """
[theme]
name = "Optimizing inference pipelines"
emoji = ":rocket:"
timezone = "America/Los_Angeles"
id = "inference"

[interview]
company = "Example Corp"
role = "Staff Engineer"
starts_at = "2026-12-03T10:00"
ends_at = "+1h"

[window]
start = "-24h"

[[metrics]]
id = "latency"
label = "p50 latency"
before = 28
after = 19
unit = "ms"
better = "lower"

[[metrics]]
id = "throughput"
label = "throughput"
before = 3400
after = 4700
unit = "QPS"
better = "higher"
"""

SLACK_SECTION = """
[slack]
enabled = true
status_text = "{{ theme.name }}: {{ metrics.latency | change }}"
status_emoji = ":rocket:"
"""

# Instants around the base theme (interview 2026-12-03 10:00 PST = 18:00Z; window from -24h).
BEFORE = "2026-12-02T08:00:00Z"
DURING = "2026-12-02T20:00:00Z"
AFTER = "2026-12-03T20:00:00Z"
WINDOW_END_TS = 1796324400  # 2026-12-03T19:00:00Z


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ALIGNER_* or proxy settings leak in from the machine; cwd is a fresh folder."""
    for name in list(os.environ):
        if name.startswith("ALIGNER_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # never the files a real `aligner auth` wrote on this machine
    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(tmp_path / "no-credentials"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits aligner makes before retrying (Retry-After, backoff), recorded instead of slept:
    each is still taken from the run's ALIGNER_RETRY_CAP budget; only the wall time goes.
    A test that times a vendor's slow answer against aligner's waits asks for `real_waits`.
    (Processes a test starts wait for real.)"""
    waited: list[float] = []
    monkeypatch.setattr(WaitBudget, "sleep", waited.append)
    return waited


@pytest.fixture
def real_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WaitBudget, "sleep", time.sleep)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with seeded_sandbox() as box:
        yield box


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def env(sandbox: Sandbox, state_dir: Path) -> dict[str, str]:
    return {**SANDBOX_ENV(sandbox.url), "ALIGNER_STATE_DIR": str(state_dir)}


def flat(text: str) -> str:
    """Text with its line folds undone: plan/apply text wraps at 100 columns in a pipe."""
    return " ".join(text.split())


def write_theme(path: Path, *sections: str) -> Path:
    path.write_text(BASE_THEME + "".join(sections), encoding="utf-8")
    return path


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    """A theme file with the Slack surface only (other surfaces disabled)."""
    return write_theme(tmp_path / "theme.toml", SLACK_SECTION)


class Aligner:
    """Runs the real CLI in-process with a given environment and clock."""

    def __init__(self, env: dict[str, str], config: Path, sandbox: Sandbox | None = None) -> None:
        self.env = env
        self.config = config
        self.sandbox = sandbox

    def __call__(
        self, *args: str, now: str | None = None, stdin: str | None = None, **env: str
    ) -> Result:
        full_env: dict[str, Any] = {**self.env, **env}
        if now is not None:
            full_env["ALIGNER_NOW"] = now
            if self.sandbox is not None:  # the fake services share aligner's clock
                with contextlib.suppress(ValueError):
                    self.sandbox.clock.pinned = datetime.fromisoformat(now)
        return CliRunner().invoke(
            cli,
            [*args, "--config", str(self.config)],
            env=full_env,
            input=stdin,
            catch_exceptions=False,
        )


@pytest.fixture
def aligner(env: dict[str, str], theme: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, theme, sandbox)


@pytest.fixture
def draft_note(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    """The CLI on a theme whose note is delivered as a Gmail draft."""
    from tests.surfaces.note.note_helpers import note_theme  # it imports this module

    return Aligner(env, note_theme(tmp_path, "draft"), sandbox)


@pytest.fixture
def send_note(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    """The CLI on a theme whose note is sent."""
    from tests.surfaces.note.note_helpers import note_theme

    return Aligner(env, note_theme(tmp_path, "send"), sandbox)


class ReadClock:
    """The clock `aligner.surfaces.reread` asks, stopped: a read stays fresh (the write relies on
    it, no re-read), so call counts never depend on how busy the machine is. `slow()` makes every
    reading come `REREAD_AFTER` after the one before: each write then finds its read old."""

    def __init__(self) -> None:
        self.now = 0.0
        self.step = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def slow(self) -> None:
        from aligner.surfaces.reread import REREAD_AFTER

        self.step = REREAD_AFTER


@pytest.fixture(autouse=True)
def read_clock(monkeypatch: pytest.MonkeyPatch) -> ReadClock:
    from aligner.surfaces import reread

    clock = ReadClock()
    monkeypatch.setattr(reread, "clock", clock)
    return clock


__all__ = ["USER_ID", "Aligner", "ReadClock", "write_theme"]
