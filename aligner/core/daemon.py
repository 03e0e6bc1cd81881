"""`aligner run`: reconcile at every transition of the theme, and every `--check-every`.

The scheduler only decides *when* to reconcile. What a reconcile does is exactly `aligner apply`:
`open_session(..., lock=True)` + `Session.apply(now)`, under the same lock, with `now` read from
the clock (or ALIGNER_NOW) each time. So a missed transition (sleep, downtime) is simply caught up
by the next reconcile, and a cron `aligner apply` and the daemon never interleave.

Pure decisions (which wake-ups to schedule, when a theme is done) are plain functions below;
`Daemon` wires them to an APScheduler BlockingScheduler and to signals:

- jobs run one at a time on a single worker thread (misfires coalesced, never dropped);
- signal handlers only post a word to a queue; a control thread acts on it: SIGHUP reloads the
  theme (a bad file is reported and the old theme kept), SIGTERM/SIGINT shut the scheduler down,
  letting an apply in progress finish.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import SimpleQueue
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from aligner.core.logs import emit, log_apply
from aligner.core.model import ApplyResult
from aligner.core.session import open_session, resolve_now
from aligner.core.timeline import transitions
from aligner.errors import AlignerError, ConfigError, LockTimeout
from aligner.render.text import local
from aligner.state.settings import Settings
from aligner.theme.schema import ThemeConfig
from aligner.theme.validation import CheckedTheme, load_theme

WATCH_EVERY = timedelta(seconds=1)  # how often an idle daemon looks at the theme file (a stat)
RETRY_AT_MOST = timedelta(minutes=1)  # a failed reconcile is retried this soon (or sooner)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
DRIFT_CHECK = "drift check"


# -- pure decisions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Wakeup:
    """One scheduled reconcile: every transition at the same instant shares it."""

    at: datetime
    reasons: tuple[str, ...]


def wakeups(config: ThemeConfig, now: datetime) -> list[Wakeup]:
    """The theme's transitions still ahead of `now`, one wake-up per distinct instant."""
    grouped: dict[datetime, list[str]] = {}
    for item in transitions(config):
        if item.at > now:
            grouped.setdefault(item.at, []).append(item.what)
    return [Wakeup(at, tuple(reasons)) for at, reasons in sorted(grouped.items())]


def is_done(config: ThemeConfig, now: datetime, last_ok: bool) -> bool:
    """Window over, no transition left, and the last reconcile (which restored) succeeded."""
    return last_ok and now >= config.schedule.window_end and not wakeups(config, now)


def drift_check_due(config: ThemeConfig, now: datetime, last_ok: bool) -> bool:
    """Drift is looked for only inside the window (outside it the transitions bring every
    change), or to retry a reconcile that failed."""
    return config.schedule.in_window(now) or not last_ok


def retry_delay(check_every: timedelta) -> timedelta:
    return min(check_every, RETRY_AT_MOST)


def covered(due: datetime, last_ok_start: datetime | None) -> bool:
    """A transition's reconcile is redundant if a successful one already began at or after it."""
    return last_ok_start is not None and last_ok_start >= due


def file_signature(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


# -- one reconcile ----------------------------------------------------------------------------


def reconcile_once(settings: Settings, config: ThemeConfig) -> ApplyResult:
    """Exactly `aligner apply`: take the lock, converge for `now` (surfaces for which nothing
    can be due are left alone, so a reconcile with nothing to do calls no API)."""
    now = resolve_now(settings, config)
    with open_session(settings, config, lock=True, busy_at=now) as session:
        return session.apply(now)


# -- the daemon -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    config_path: Path
    check_every: timedelta = timedelta(minutes=15)
    exit_when_done: bool = False


class Daemon:
    def __init__(
        self, settings: Settings, options: RunOptions, theme: CheckedTheme, log: logging.Logger
    ) -> None:
        self.settings, self.options, self.log = settings, options, log
        self.config = theme.config
        self.theme_stamp = file_signature(options.config_path)
        self.scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.control: SimpleQueue[str] = SimpleQueue()
        self.stopping = threading.Event()
        self.said: frozenset[str] = frozenset()  # last reconcile's notices: not logged again
        self.finished = threading.Event()
        self.busy = threading.Lock()  # held while a reconcile runs
        self.idle = False
        self.last_ok_start: datetime | None = None
        self.last_ok = True  # the last reconcile succeeded (or none ran yet)
        self.generation = 0  # how many times the jobs were (re)scheduled

    def run(self) -> int:
        """Block until stopped; 0 after a graceful stop or when done with --exit-when-done."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (*STOP_SIGNALS, signal.SIGHUP)
        }
        threading.Thread(target=self._control_loop, name="aligner-control", daemon=True).start()
        self.schedule("start-up")
        try:
            self._run_scheduler()
        finally:
            self.finished.set()
            self.stopping.set()
            with self.busy:  # an apply in progress finishes first
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
        emit(self.log, "stopped", "aligner run stopped")
        return 0

    def _run_scheduler(self) -> None:
        try:
            self.scheduler.start()
        except JobLookupError:
            # APScheduler 3's shutdown() marks the scheduler stopped before it takes the job-store
            # lock, so the main loop, just then dropping a one-off job it has run, finds no such
            # job and raises (https://github.com/agronholm/apscheduler/issues/104 is the same
            # race). It only happens while we stop, and nothing is lost: the job already ran.
            if not self.stopping.is_set():
                raise

    # -- scheduling (control thread, or before start) --------------------------------------

    def schedule(self, why: str) -> None:
        """Replace every job: reconcile now, at each transition ahead, and every check-every."""
        now = utcnow()
        config, every = self.config, self.options.check_every
        self.scheduler.remove_all_jobs()
        # A fresh id each time: a job whose id is still running would be skipped (max_instances).
        self.generation += 1
        self._add(f"reconcile {self.generation}", self.reconcile, [why, None], "date", run_date=now)
        ahead = wakeups(config, now)
        for wake in ahead:
            reasons = ", ".join(wake.reasons)
            self._add(
                f"at {wake.at.isoformat()}",
                self.reconcile,
                [reasons, wake.at],
                "date",
                run_date=wake.at,
            )
        self._add(
            "drift",
            self.reconcile,
            [DRIFT_CHECK, None],
            "interval",
            seconds=every.total_seconds(),
        )
        self._add("watch", self.watch, [], "interval", seconds=WATCH_EVERY.total_seconds())
        first = (
            f"; next {local(ahead[0].at, config.zone)}: {', '.join(ahead[0].reasons)}"
            if ahead
            else ""
        )
        emit(
            self.log,
            "scheduled",
            f"“{config.theme.name}”: {len(ahead)} transition(s) ahead{first}; "
            f"drift check every {_seconds_text(every)}",
            transitions=[w.at.isoformat() for w in ahead],
            check_every=every.total_seconds(),
        )

    def _add(
        self,
        job_id: str,
        func: Callable[..., None],
        args: list[Any],
        trigger: str | None = None,
        **options: Any,
    ) -> None:
        self.scheduler.add_job(
            func, trigger, args=args, id=job_id, name=job_id, replace_existing=True, **options
        )

    def reload(self, why: str) -> None:
        self.theme_stamp = file_signature(self.options.config_path)
        try:
            theme = load_theme(self.options.config_path)
        except ConfigError as exc:
            emit(
                self.log,
                "reload-failed",
                f"{'; '.join(exc.problems)} — keeping the previous theme",
                logging.ERROR,
            )
            return
        for warning in theme.warnings:
            emit(self.log, "warning", str(warning), logging.WARNING)
        self.config, self.idle = theme.config, False
        emit(self.log, "reloaded", f"{why}: reloaded {self.options.config_path}")
        self.schedule(why)

    # -- jobs (the single worker thread) -----------------------------------------------------

    def reconcile(self, why: str, due: datetime | None) -> None:
        with self.busy:
            if not self.stopping.is_set():
                self._reconcile(why, due)

    def _reconcile(self, why: str, due: datetime | None) -> None:
        started = utcnow()
        if due is not None and covered(due, self.last_ok_start):
            return
        if why == DRIFT_CHECK and not drift_check_due(self.config, started, self.last_ok):
            return
        config = self.config
        ok = False
        try:
            result = reconcile_once(self.settings, config)
        except LockTimeout as exc:
            emit(self.log, "busy", f"{why}: {exc}", logging.WARNING)
        except ConfigError as exc:
            emit(self.log, "failed", f"{why}: {'; '.join(exc.problems)}", logging.ERROR)
        except AlignerError as exc:  # e.g. the state database cannot be used
            emit(self.log, "failed", f"{why}: {exc}", logging.ERROR)
        except Exception as exc:  # a bug must not kill the daemon: say so, retry later
            emit(
                self.log,
                "failed",
                f"{why}: internal error: {type(exc).__name__}: {exc}",
                logging.ERROR,
            )
        else:
            self.said = log_apply(self.log, result, why, self.said)
            ok = not result.failed
            if is_done(config, result.plan.at, ok) and config is self.config:
                self._done()
        self.last_ok = ok
        if ok:
            self.last_ok_start = started
        else:
            self._retry_later()

    def watch(self) -> None:
        """While idle, a changed theme file counts as a reload."""
        if self.idle and file_signature(self.options.config_path) != self.theme_stamp:
            self.control.put("theme file changed")

    def _retry_later(self) -> None:
        delay = retry_delay(self.options.check_every)
        emit(self.log, "retry", f"will try again in {_seconds_text(delay)}")
        self._add(
            f"retry {self.generation}",
            self.reconcile,
            ["retry", None],
            "date",
            run_date=utcnow() + delay,
        )

    def _done(self) -> None:
        if self.idle:
            return
        self.idle = True
        if self.options.exit_when_done:
            emit(self.log, "done", "window over and everything restored; exiting")
            self.control.put("done")
            return
        if self.scheduler.get_job("drift"):
            self.scheduler.remove_job("drift")
        emit(
            self.log,
            "idle",
            "window over and everything restored; waiting for the theme file to change (or SIGHUP)",
        )

    # -- signals and the control thread -----------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.control.put("SIGHUP" if signum == signal.SIGHUP else f"stop:{name}")

    def _control_loop(self) -> None:
        while True:
            word = self.control.get()
            if word.startswith("stop:") or word == "done":
                self.stop(word.removeprefix("stop:"))
                return
            self.reload(word)

    def stop(self, why: str) -> None:
        """Shut down after the job in progress (if any); queued jobs are skipped."""
        if why != "done":
            emit(self.log, "stopping", f"{why}: stopping once the current apply (if any) finishes")
        self.stopping.set()
        while not self.finished.is_set():
            try:
                self.scheduler.shutdown(wait=True)
                return
            except SchedulerNotRunningError:  # not started yet: try again in a moment
                time.sleep(0.05)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _seconds_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
