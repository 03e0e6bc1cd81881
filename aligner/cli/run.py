"""`aligner run`: the scheduled worker's command line (the daemon itself is aligner.core.daemon)."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import cast

import click

from aligner.cli.context import EXIT_USAGE, State, config_option, handled, pass_state
from aligner.core.logs import LogFormat, emit, setup_logging
from aligner.errors import ConfigError
from aligner.theme.timespec import TimeSpecError, duration_length
from aligner.theme.validation import load_theme

SHORTEST_CHECK = timedelta(seconds=1)


def parse_check_every(text: str) -> timedelta:
    """`15m`, `1h`, `90s`, `1h30m`: a positive length of time."""
    try:
        every = duration_length(text)
    except TimeSpecError as exc:
        raise ConfigError(f"--check-every: {exc}") from None
    if every < SHORTEST_CHECK:
        raise ConfigError("--check-every: must be at least 1s")
    return every


@click.command(short_help="Stay running: apply at every transition.")
@click.option(
    "--check-every",
    default="15m",
    show_default=True,
    help="Also check for drift this often between transitions (e.g. 5m, 1h, 90s).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines on stderr: human-readable, or one JSON object per line.",
)
@click.option(
    "--exit-when-done",
    is_flag=True,
    help="Exit 0 once the window is over and everything is restored (default: keep idling "
    "until the theme file changes).",
)
@config_option
@pass_state
@handled
def run(
    state: State,
    check_every: str,
    log_format: str,
    exit_when_done: bool,
    config_path: Path | None,
) -> None:
    """Stay running: apply at every transition of the theme and every --check-every.

    SIGHUP reloads the theme file; SIGTERM or SIGINT stop after the apply in progress.
    """
    every = parse_check_every(check_every)
    settings = state.settings(config_path)
    if settings.now:
        raise ConfigError(
            "ALIGNER_NOW: `aligner run` follows the real clock; unset ALIGNER_NOW "
            "(to see a whole timeline on a simulated clock, use `aligner rehearse`)"
        )
    from aligner.core.daemon import Daemon, RunOptions

    log = setup_logging(cast(LogFormat, log_format), settings.secret_values())
    try:
        theme = load_theme(settings.config)
    except ConfigError as exc:
        for problem in exc.problems:
            emit(log, "invalid-theme", problem, logging.ERROR)
        sys.exit(EXIT_USAGE)
    for warning in theme.warnings:
        emit(log, "warning", str(warning), logging.WARNING)
    emit(log, "started", f"aligner run: theme {settings.config}, state in {settings.state_dir}")
    options = RunOptions(settings.config, every, exit_when_done)
    sys.exit(Daemon(settings, options, theme, log).run())
