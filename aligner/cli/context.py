"""What every command shares: scrubbed output, settings, the theme, the clock, and turning
aligner's errors into one clear line and an exit code."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from aligner.errors import AlignerError, ConfigError, StateRefused

if TYPE_CHECKING:
    from aligner.state.settings import Settings
    from aligner.theme.schema import ThemeConfig
    from aligner.theme.validation import CheckedTheme

F = TypeVar("F", bound=Callable[..., Any])
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3


class Output:
    """Prints to stdout/stderr, never a secret: every line is scrubbed of known secret values.

    `color`: True paints always, False never, None on a terminal only (click strips the colour
    of text that goes to a pipe or a file)."""

    def __init__(self, secrets: list[str], color: bool | None = None) -> None:
        self.secrets = [s for s in secrets if len(s) >= 4]
        self.color = color

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def print(self, text: str = "") -> None:
        click.echo(self.scrub(text), color=self.color)

    def width(self) -> int:
        """Columns to wrap human text to: the terminal's width, or 100 when piped."""
        from aligner.render.text import PIPE_WIDTH

        if not sys.stdout.isatty():
            return PIPE_WIDTH
        import shutil

        return max(40, shutil.get_terminal_size((PIPE_WIDTH, 24)).columns)

    def painted(self, text: str) -> None:
        """Human text (plan, apply, status, doctor, rehearse): wrapped to the width (see
        `width`), with its marks in colour when colour is wanted (see `color`)."""
        from aligner.render.text import wrap

        text = wrap(text, self.width())
        if self.color is False:
            self.print(text)
            return
        from aligner.render.color import paint

        self.print(paint(text))

    def error(self, text: str) -> None:
        click.echo(self.scrub(text), err=True)


def color_choice(mode: str) -> bool | None:
    """`--color auto|always|never` and NO_COLOR (https://no-color.org): the flag wins; in auto,
    a non-empty NO_COLOR or TERM=dumb means plain, else colour on a terminal only."""
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return None


class State:
    def __init__(
        self, debug: bool, color: bool | None = None, config_path: Path | None = None
    ) -> None:
        self.debug = debug
        self.config_path = config_path  # `aligner -c FILE <command>`
        self.output = Output([], color)
        self._settings: Settings | None = None

    def settings(self, config: Path | None = None) -> Settings:
        """Settings, with every account's part read (a bad variable is one line, exit 2)."""
        if self._settings is None:
            from pydantic import ValidationError

            from aligner.state.credentials import take_unreadable
            from aligner.state.settings import Settings
            from aligner.surfaces import settings_parts
            from aligner.theme.schema import describe_validation_error

            try:
                base = Settings()
                base.read_parts(settings_parts())
            except ValidationError as exc:
                problems = [_setting_problem(p) for p in describe_validation_error(exc)]
                raise ConfigError(problems) from None
            self._settings = base.with_config(config) if config else base
            self.output = Output(self._settings.secret_values(), self.output.color)
            for skipped in take_unreadable():  # an unreadable credentials folder: not a crash
                self.output.error(f"warning: {skipped}")
        return self._settings

    def theme(
        self, config: Path | None, *, strict: bool = True, quiet: bool = False, at: str | None = ""
    ) -> CheckedTheme:
        """`at`: the moment (as for resolve_now) whose story is checked; "" checks none."""
        from aligner.core.session import resolve_now
        from aligner.theme.validation import load_theme

        now = None if at == "" else functools.partial(resolve_now, self.settings(config), at=at)
        checked = load_theme(self.settings(config).config, strict=strict, now=now)
        for warning in () if quiet else checked.warnings:  # cron would mail them every run
            self.output.error(f"warning: {warning}")
        return checked

    def now(self, config: ThemeConfig, at: str | None = None, *, quiet: bool = False) -> datetime:
        """The moment to act for; says so when ALIGNER_NOW freezes the clock (easy to forget)."""
        from aligner.core.session import resolve_now

        settings = self.settings()
        if settings.now and not at and not quiet:
            self.output.error(f"note: the clock is frozen at {settings.now} by ALIGNER_NOW")
        return resolve_now(settings, config, at)

    def remember_secrets(self, *values: str | None) -> None:
        """Values learnt while running (a token just typed in): never printed from now on."""
        self.output.secrets.extend(v for v in values if v and len(v) >= 4)


def _setting_problem(problem: str) -> str:
    """'lock_wait: Input should be …' -> 'ALIGNER_LOCK_WAIT: input should be …'."""
    field, _, message = problem.partition(": ")
    return f"ALIGNER_{field.upper()}: {message[:1].lower()}{message[1:]}"


def fail(state: State, code: int, message: str) -> NoReturn:
    if state.debug:  # the traceback too, scrubbed of secrets like every other line
        state.output.error(traceback.format_exc().rstrip())
    state.output.error(message)
    sys.exit(code)


def handled(func: F) -> F:
    """Turn aligner's errors into one clear message and an exit code (a traceback with --debug)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state: State = click.get_current_context().find_object(State) or State(False)
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(state, EXIT_USAGE, "\n".join(exc.problems))
        except StateRefused as exc:  # a person must move the database aside: like bad config
            fail(state, EXIT_USAGE, f"error: {exc}")
        except AlignerError as exc:  # lock held, surface failures
            fail(state, EXIT_FAILED, f"error: {exc}")
        except KeyboardInterrupt:
            fail(state, 130, "interrupted")
        except Exception as exc:  # a bug: one line unless --debug
            hint = "" if state.debug else " (run with --debug for details)"
            fail(state, EXIT_FAILED, f"internal error: {type(exc).__name__}: {exc}{hint}")

    return wrapper  # type: ignore[return-value]


def _config_given_before(ctx: click.Context, _: click.Parameter, value: Path | None) -> Path | None:
    """`aligner -c theme.toml plan` and `aligner plan -c theme.toml` mean the same; the one
    nearer the command wins when both are given."""
    if value is None:
        state = ctx.find_object(State)
        return state.config_path if state else None
    return value


def config_option(func: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        callback=_config_given_before,
        help="Theme file (default: $ALIGNER_CONFIG or ./config/theme.toml).",
    )(func)


pass_state = click.make_pass_decorator(State)
