"""`aligner run`: the pure scheduling decisions, and the daemon as a real subprocess.

The subprocess tests use the real clock (no ALIGNER_NOW, nothing pinned on the sandbox clock) and
themes whose window starts and ends a few seconds from now. Every wait polls against a deadline.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.date import DateTrigger

from aligner.core.daemon import covered, drift_check_due, is_done, retry_delay, wakeups
from aligner.core.logs import emit, setup_logging
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SLACK_TOKEN
from aligner.theme.schema import parse_config
from tests.conftest import (
    AFTER,
    BASE_THEME,
    BEFORE,
    DURING,
    SLACK_SECTION,
    USER_ID,
    Aligner,
    write_theme,
)

ORIGINAL = {
    "status_text": "Working from home",
    "status_emoji": ":house_with_garden:",
    "status_expiration": 0,
}
TEXT = "Deep work on inference pipelines"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- pure decisions ---------------------------------------------------------------------------


@pytest.fixture
def config() -> Any:
    import tomllib

    return parse_config(tomllib.loads(BASE_THEME + SLACK_SECTION))


def test_wakeups_are_the_transitions_ahead_one_per_instant(config: Any) -> None:
    before = wakeups(config, instant(BEFORE))
    assert [w.at.isoformat() for w in before] == [
        "2026-12-02T18:00:00+00:00",
        "2026-12-03T18:00:00+00:00",
        "2026-12-03T19:00:00+00:00",
    ]
    end = before[-1]
    assert "window ends" in end.reasons and "interview ends" in end.reasons
    assert len(wakeups(config, instant(DURING))) == 2
    assert wakeups(config, instant(AFTER)) == []
    assert wakeups(config, before[0].at) == before[1:]  # a transition at `now` is not ahead


def test_done_only_after_the_window_when_the_last_reconcile_succeeded(config: Any) -> None:
    assert is_done(config, instant(AFTER), last_ok=True)
    assert not is_done(config, instant(AFTER), last_ok=False)
    assert not is_done(config, instant(DURING), last_ok=True)
    assert not is_done(config, instant(BEFORE), last_ok=True)


def test_drift_is_looked_for_only_inside_the_window_or_to_retry(config: Any) -> None:
    """Outside the window the transitions bring every change: the daemon sleeps until then."""
    before, during, after = (datetime.fromisoformat(t) for t in (BEFORE, DURING, AFTER))
    assert drift_check_due(config, during, last_ok=True)
    assert not drift_check_due(config, before, last_ok=True)
    assert not drift_check_due(config, after, last_ok=True)
    assert drift_check_due(config, after, last_ok=False)


def test_a_transition_already_covered_by_a_later_reconcile_is_skipped() -> None:
    due = instant(DURING)
    assert not covered(due, None)
    assert not covered(due, due - timedelta(seconds=1))
    assert covered(due, due)
    assert covered(due, due + timedelta(hours=3))


def test_failed_reconcile_retries_within_a_minute() -> None:
    assert retry_delay(timedelta(minutes=15)) == timedelta(minutes=1)
    assert retry_delay(timedelta(seconds=20)) == timedelta(seconds=20)


def test_log_lines_are_single_lines_without_secrets() -> None:
    for fmt in ("text", "json"):
        stream = io.StringIO()
        log = setup_logging(fmt, ["xoxp-secret-value", "abc"], stream)  # type: ignore[arg-type]
        emit(log, "failed", "token xoxp-secret-value\nwas refused", logging.ERROR, surface="slack")
        try:
            raise ValueError("bad xoxp-secret-value")
        except ValueError:
            log.exception("oops")
        lines = stream.getvalue().splitlines()
        assert len(lines) == 2
        assert all("xoxp-secret-value" not in line for line in lines)
        assert "****" in lines[0] and "ValueError" in lines[1]
        if fmt == "json":
            first = json.loads(lines[0])
            assert first["event"] == "failed" and first["surface"] == "slack"
            assert first["message"] == "token **** was refused"
        else:
            assert " error failed: token **** was refused" in lines[0]


def test_bad_check_every_and_bad_theme_exit_2(aligner: Aligner, tmp_path: Path) -> None:
    result = aligner("run", "--check-every", "soon")
    assert result.exit_code == 2
    assert "--check-every:" in result.output
    aligner.config.write_text("[theme]\nname = 'x'\n", encoding="utf-8")
    result = aligner("run", "--exit-when-done")
    assert result.exit_code == 2
    assert "timezone: is required" in result.output and "Traceback" not in result.output


# -- the daemon as a subprocess ---------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_theme(path: Path, start: datetime, end: datetime, text: str = TEXT) -> Path:
    """A Slack-only theme whose window is [start, end) (the interview fills the window)."""
    path.write_text(
        f"""
[theme]
name = "Inference pipelines"
timezone = "Europe/Berlin"

[interview]
company = "Example Corp"
starts_at = "{iso(start)}"
ends_at = "{iso(end)}"

[window]
start = "{iso(start)}"

[slack]
status_text = "{text}"
status_emoji = ":rocket:"
""",
        encoding="utf-8",
    )
    return path


def whole_second_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def wait_until(check: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what if isinstance(what, str) else what()}"
    )


class DaemonProcess:
    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def wait_for(self, text: str, timeout: float = 20) -> None:
        def seen() -> bool:
            if text in self.log:
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log}")
            return False

        self.wait(seen, f"{text!r} in the daemon log", timeout)

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 20) -> Any:
        return wait_until(check, timeout, lambda: f"{what}; the daemon log:\n{self.log}")

    def signal(self, signum: int) -> None:
        os.kill(self.proc.pid, signum)

    def exit_code(self, timeout: float = 5) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon still running after {timeout}s:\n{self.log}") from None


Start = Callable[..., DaemonProcess]


@pytest.fixture
def process_env(env: dict[str, str]) -> dict[str, str]:
    full = {**os.environ, **env}
    assert "ALIGNER_NOW" not in full
    return full


@pytest.fixture
def start_daemon(process_env: dict[str, str], tmp_path: Path) -> Iterator[Start]:
    started: list[DaemonProcess] = []

    def start(config: Path, *args: str, **extra_env: str) -> DaemonProcess:
        log_path = tmp_path / f"daemon-{len(started)}.log"
        with log_path.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "aligner", "run", "--config", str(config), *args],
                env={**process_env, **extra_env},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        daemon = DaemonProcess(proc, log_path)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(timeout=5)
    for daemon in started:
        assert SLACK_TOKEN not in daemon.log


def slack_status(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.service("slack").status(USER_ID)  # type: ignore[no-any-return]


def slack_sets(sandbox: Sandbox) -> list[Any]:
    return sandbox.requests("slack", "users.profile.set")


def shows(sandbox: Sandbox, text: str) -> Callable[[], bool]:
    return lambda: slack_status(sandbox)["status_text"] == text


def test_status_appears_at_window_start_and_is_restored_at_end(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path
) -> None:
    base = whole_second_now()
    start, end = base + timedelta(seconds=3), base + timedelta(seconds=6)
    daemon = start_daemon(window_theme(tmp_path / "theme.toml", start, end), "--exit-when-done")
    daemon.wait_for("scheduled")
    if datetime.now(UTC) < start - timedelta(seconds=0.3):
        assert slack_status(sandbox) == ORIGINAL
    daemon.wait(shows(sandbox, TEXT), "the themed status")
    daemon.wait(lambda: slack_status(sandbox) == ORIGINAL, "the original status back")
    assert daemon.exit_code() == 0
    themed, restored = slack_sets(sandbox)
    assert themed.at >= start.timestamp()
    assert restored.at >= end.timestamp()
    assert "done" in daemon.log


def test_sigterm_exits_0_within_seconds(start_daemon: Start, tmp_path: Path) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base + timedelta(hours=1), base + timedelta(hours=2)
    )
    daemon = start_daemon(theme)
    daemon.wait_for("reconciled")
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code(timeout=5) == 0
    assert "stopped" in daemon.log


def test_sighup_reloads_the_theme_and_keeps_it_when_the_new_file_is_bad(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path
) -> None:
    base = whole_second_now()
    start, end = base - timedelta(seconds=5), base + timedelta(minutes=5)
    theme = window_theme(tmp_path / "theme.toml", start, end)
    daemon = start_daemon(theme)
    daemon.wait(shows(sandbox, TEXT), "the themed status")

    window_theme(theme, start, end, text="Shipping the batching rewrite")
    daemon.signal(signal.SIGHUP)
    daemon.wait(shows(sandbox, "Shipping the batching rewrite"), "the new status text")

    theme.write_text("[theme\nnot toml", encoding="utf-8")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for("keeping the previous theme")
    assert daemon.proc.poll() is None
    assert slack_status(sandbox)["status_text"] == "Shipping the batching rewrite"
    assert len(slack_sets(sandbox)) == 2
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0


def test_sighup_during_an_apply_is_not_lost(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path
) -> None:
    base = whole_second_now()
    start, end = base - timedelta(seconds=5), base + timedelta(minutes=5)
    theme = window_theme(tmp_path / "theme.toml", start, end)
    sandbox.inject("users.profile.get", "latency", seconds=1.0)  # the start-up apply is slow
    daemon = start_daemon(theme)
    daemon.wait_for("scheduled")  # signal handlers are in place before this line
    window_theme(theme, start, end, text="Shipping the batching rewrite")
    daemon.signal(signal.SIGHUP)
    daemon.wait(shows(sandbox, "Shipping the batching rewrite"), "the new status text")
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0


@pytest.mark.heavy(2)
def test_daemon_and_concurrent_apply_never_both_write(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path, process_env: dict[str, str]
) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base - timedelta(seconds=5), base + timedelta(minutes=5)
    )
    # Slow writes: without the shared lock the second run would read the original while the
    # first one's write is still in flight, and both would write.
    sandbox.inject("users.profile.set", "latency", seconds=1.5, times=2)
    apply = subprocess.Popen(
        [sys.executable, "-m", "aligner", "apply", "--config", str(theme)],
        env=process_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        daemon = start_daemon(theme)
        output, _ = apply.communicate(timeout=15)
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
    assert apply.returncode == 0, output.decode()
    daemon.wait_for("reconciled")
    assert len(slack_sets(sandbox)) == 1
    # ... and the one that waited saw the other's write as aligner's own, not as a hand edit.
    assert "conflict" not in daemon.log and "conflict" not in output.decode()
    assert slack_status(sandbox)["status_text"] == TEXT
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0


def test_missed_transition_is_caught_up_at_start_up(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path
) -> None:
    base = whole_second_now()
    start, end = base - timedelta(minutes=10), base + timedelta(minutes=5)
    daemon = start_daemon(window_theme(tmp_path / "theme.toml", start, end))
    daemon.wait(shows(sandbox, TEXT), "the themed status")
    daemon.wait_for("start-up: phase during, 1 change applied")
    daemon.signal(signal.SIGINT)  # Ctrl-C stops it as gracefully as SIGTERM
    assert daemon.exit_code() == 0
    assert "SIGINT: stopping" in daemon.log


def test_stop_lets_the_apply_in_progress_finish(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path, aligner: Aligner
) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base - timedelta(seconds=5), base + timedelta(minutes=5)
    )
    sandbox.inject("users.profile.set", "latency", seconds=1.0)
    daemon = start_daemon(theme)
    daemon.wait(lambda: sandbox.requests("slack", "users.profile.get"), "the daemon's read")
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0
    assert [r.status for r in slack_sets(sandbox)] == [200]
    log = daemon.log
    assert log.index("stopping") < log.index("changed") < log.index("stopped")
    aligner.config = theme
    sandbox.clear_log()
    assert "nothing to do" in aligner("apply").output  # the state DB recorded that apply
    assert slack_sets(sandbox) == []


def test_after_the_window_it_idles_until_the_theme_file_changes(
    start_daemon: Start, sandbox: Sandbox, tmp_path: Path
) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base - timedelta(minutes=20), base - timedelta(minutes=10)
    )
    daemon = start_daemon(theme)
    daemon.wait_for("waiting for the theme file to change")
    window_theme(theme, base - timedelta(seconds=5), base + timedelta(minutes=5))
    daemon.wait(shows(sandbox, TEXT), "the themed status after the file changed")
    assert "theme file changed" in daemon.log
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0


def test_exit_when_done_exits_0_when_nothing_is_left(start_daemon: Start, tmp_path: Path) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base - timedelta(minutes=20), base - timedelta(minutes=10)
    )
    daemon = start_daemon(theme, "--exit-when-done")
    assert daemon.exit_code(timeout=10) == 0, daemon.log


def test_json_logs_one_object_per_line_and_never_a_secret(
    start_daemon: Start, tmp_path: Path
) -> None:
    base = whole_second_now()
    theme = window_theme(
        tmp_path / "theme.toml", base - timedelta(seconds=5), base + timedelta(minutes=5)
    )
    daemon = start_daemon(
        theme, "--log-format", "json", ALIGNER_SLACK_TOKEN="xoxp-wrong-but-secret"
    )
    daemon.wait_for('"event": "reconciled"')
    daemon.signal(signal.SIGTERM)
    assert daemon.exit_code() == 0
    events = [json.loads(line) for line in daemon.log.splitlines()]
    assert {"ts", "level", "event", "message"} <= set(events[0])
    failed = [e for e in events if e["event"] == "failed"]
    assert failed and "Slack rejected the token" in failed[0]["message"]
    assert any(e["event"] == "retry" for e in events)
    assert "xoxp-wrong-but-secret" not in daemon.log


def test_run_refuses_a_frozen_clock(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aligner.cli import cli

    theme = write_theme(tmp_path / "theme.toml", SLACK_SECTION)
    result = CliRunner().invoke(
        cli, ["run", "--config", str(theme)], env={"ALIGNER_NOW": "2026-12-02T20:00:00Z"}
    )
    assert result.exit_code == 2
    assert "ALIGNER_NOW: `aligner run` follows the real clock" in result.stderr


def test_a_notice_is_logged_once_not_at_every_drift_check() -> None:
    import io
    from datetime import UTC, datetime

    from aligner.core.logs import log_apply, setup_logging
    from aligner.core.model import ApplyResult, Change, Outcome, Plan, SurfacePlan

    stream = io.StringIO()
    log = setup_logging("text", [], stream)
    notice = Change(
        "note",
        "n",
        "notice",
        None,
        "already drafted",
        "already drafted",
        writes=False,
        ownership="keep",
    )
    plan = Plan(
        datetime(2026, 12, 3, tzinfo=UTC), "during", (SurfacePlan("note", "Note", (notice,)),)
    )
    result = ApplyResult(plan, (Outcome(notice, ok=True),))
    said = log_apply(log, result, "drift check")
    said = log_apply(log, result, "drift check", said)
    assert stream.getvalue().count("already drafted") == 1
    log_apply(log, ApplyResult(plan, ()), "drift check", said)  # gone, then back: said again
    log_apply(log, result, "drift check", frozenset())
    assert stream.getvalue().count("already drafted") == 2


def test_the_log_says_when_a_revert_is_in_force() -> None:
    import io
    import json
    from datetime import UTC, datetime

    from aligner.core.logs import log_apply, setup_logging
    from aligner.core.model import ApplyResult, Plan

    at = datetime(2026, 12, 3, tzinfo=UTC)
    for log_format in ("text", "json"):
        stream = io.StringIO()
        log = setup_logging(log_format, [], stream)
        log_apply(log, ApplyResult(Plan(at, "during", (), reverted_at=at.isoformat()), ()), "check")
        line = stream.getvalue().strip()
        assert "reverted since 2026-12-03T00:00:00+00:00 (`aligner resume` lifts it)" in line
        if log_format == "json":
            assert json.loads(line)["reverted_at"] == at.isoformat()


class _StopsBeforeItIsDropped(DateTrigger):
    """Fires once; when the scheduler asks for the next time (just before it drops the job from
    its store), waits until the daemon has begun shutting the scheduler down: the race, every
    time."""

    def __init__(self, run_date: datetime, scheduler: Any) -> None:
        super().__init__(run_date)
        self._scheduler = scheduler
        self._asked_after_firing = 0

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is not None:
            self._asked_after_firing += 1
        if self._asked_after_firing == 2:  # the first time is to count the run times
            wait_until(lambda: self._scheduler.state == STATE_STOPPED, 5, "shutdown to begin")
        return super().get_next_fire_time(previous_fire_time, now)  # type: ignore[no-any-return]


def test_stopping_while_the_scheduler_drops_a_finished_job_still_exits_0(tmp_path: Path) -> None:
    """APScheduler's shutdown from the control thread can catch its main loop removing the job
    that just ran (and asked to stop); that must not turn a clean stop into an internal error."""
    from aligner.core.daemon import Daemon, RunOptions
    from aligner.state.settings import Settings
    from aligner.theme.validation import load_theme

    theme = write_theme(tmp_path / "theme.toml", SLACK_SECTION)
    daemon = Daemon(
        Settings(state_dir=tmp_path / "state"),
        RunOptions(theme, exit_when_done=True),
        load_theme(theme),
        logging.getLogger("test-daemon"),
    )
    daemon.schedule = lambda why: None  # type: ignore[method-assign]  # only the job below
    daemon.scheduler.add_job(
        lambda: daemon.control.put("done"),
        _StopsBeforeItIsDropped(datetime.now(UTC), daemon.scheduler),
        id="the last job",
    )
    assert daemon.run() == 0
    assert daemon.scheduler.get_jobs() == []
