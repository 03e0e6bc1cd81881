"""The command line. The only module that prints and chooses exit codes.

Exit codes: 0 success; 1 a surface failed (others still applied) or the lock is held;
2 usage or configuration error; 3 `plan --detailed-exitcode` with changes pending.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console

from aligner import __version__
from aligner.core.model import ApplyResult
from aligner.core.session import Session, open_session, resolve_now
from aligner.core.timeline import transitions
from aligner.errors import AlignerError, ConfigError
from aligner.render.text import apply_text, local, plan_text, window_line
from aligner.state.settings import Settings
from aligner.theme.schema import ThemeConfig, describe_validation_error
from aligner.theme.starter import starter_text
from aligner.theme.validation import CheckedTheme, load_theme

F = TypeVar("F", bound=Callable[..., Any])
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3


class Output:
    """Prints to stdout/stderr, never a secret: every line is scrubbed of known secret values."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s for s in secrets if len(s) >= 4]
        self.out = Console(soft_wrap=True, highlight=False, markup=False, emoji=False)
        self.err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False, emoji=False)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def print(self, text: str = "") -> None:
        self.out.print(self.scrub(text))

    def error(self, text: str) -> None:
        self.err.print(self.scrub(text))


class State:
    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self.output = Output([])
        self._settings: Settings | None = None

    def settings(self, config: Path | None = None) -> Settings:
        if self._settings is None:
            try:
                base = Settings()
            except ValidationError as exc:
                problems = [_setting_problem(p) for p in describe_validation_error(exc)]
                raise ConfigError(problems) from None
            self._settings = base.model_copy(update={"config": config}) if config else base
            self.output = Output(self._settings.secret_values())
        return self._settings

    def theme(
        self, config: Path | None, *, strict: bool = True, quiet: bool = False, at: str | None = ""
    ) -> CheckedTheme:
        """`at`: the moment (as for resolve_now) whose story is checked; "" checks none."""
        now = None if at == "" else functools.partial(resolve_now, self.settings(config), at=at)
        checked = load_theme(self.settings(config).config, strict=strict, now=now)
        for warning in () if quiet else checked.warnings:  # cron would mail them every run
            self.output.error(f"warning: {warning}")
        return checked

    def now(self, config: ThemeConfig, at: str | None = None, *, quiet: bool = False) -> datetime:
        """The moment to act for; says so when ALIGNER_NOW freezes the clock (easy to forget)."""
        settings = self.settings()
        if settings.now and not at and not quiet:
            self.output.error(f"note: the clock is frozen at {settings.now} by ALIGNER_NOW")
        return resolve_now(settings, config, at)


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
        except AlignerError as exc:  # lock held, surface failures
            fail(state, EXIT_FAILED, f"error: {exc}")
        except KeyboardInterrupt:
            fail(state, 130, "interrupted")
        except Exception as exc:  # a bug: one line unless --debug
            hint = "" if state.debug else " (run with --debug for details)"
            fail(state, EXIT_FAILED, f"internal error: {type(exc).__name__}: {exc}{hint}")

    return wrapper  # type: ignore[return-value]


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        default=None,
        help="Theme file (default: $ALIGNER_CONFIG or ./config/theme.toml).",
    )(func)


pass_state = click.make_pass_decorator(State)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="aligner")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Keep Slack, Calendar, Gmail signature and a note telling one story for a while."""
    ctx.obj = State(debug)


# -- init / validate / timeline ---------------------------------------------------------------


@cli.command(short_help="Write an annotated starter theme file.")
@click.argument("path", type=click.Path(path_type=Path), required=False)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@config_option
@pass_state
@handled
def init(state: State, path: Path | None, force: bool, config_path: Path | None) -> None:
    """Write an annotated starter theme file (default: ./config/theme.toml)."""
    target = path or config_path or state.settings().config
    if target.is_dir():
        raise ConfigError(f"{target}: is a folder; give a file name such as {target}/theme.toml")
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists (use --force to overwrite)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = starter_text(datetime.now(UTC).date() + timedelta(days=3))
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write it ({exc.strerror})") from None
    state.output.print(
        f"Wrote {target}. Next: edit it, then `aligner validate --config {target}` "
        f"and `aligner rehearse --config {target}`."
    )


@cli.command()
@config_option
@pass_state
@handled
def validate(state: State, config_path: Path | None) -> None:
    """Check the theme file; exit 2 with one line per problem."""
    checked = state.theme(config_path, at=None)
    state.output.print(
        f"{state.settings().config}: valid — “{checked.config.theme.name}”, "
        f"{window_line(checked.config)}"
    )


@cli.command()
@config_option
@pass_state
@handled
def timeline(state: State, config_path: Path | None) -> None:
    """Every transition of the theme, in order, in the theme timezone."""
    config = state.theme(config_path).config
    for item in transitions(config):
        state.output.print(f"{local(item.at, config.zone)}  {item.what}")


# -- plan / apply / revert --------------------------------------------------------------------


@cli.command(short_help="Show what apply would change; writes nothing.")
@click.option("--at", "at", default=None, help="Preview another moment (ISO time or e.g. -2h).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 3 with changes.")
@click.option("--force", is_flag=True, help="Also re-assert items a person changed by hand.")
@config_option
@pass_state
@handled
def plan(
    state: State,
    at: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    force: bool,
    config_path: Path | None,
    quiet: bool = False,  # only through `apply --dry-run --quiet`
) -> None:
    """Show what apply would change, reading every surface and writing nothing."""
    config = state.theme(config_path, quiet=quiet, at=at).config
    settings = state.settings()
    now = state.now(config, at, quiet=quiet)
    with open_session(settings, config, lock=False) as session:
        result = session.plan(now, force=force)
    if quiet and not result.changes and not result.errors:
        return
    if as_json:
        state.output.print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        state.output.print(plan_text(result, config))
    if result.errors:
        sys.exit(EXIT_FAILED)
    if detailed_exitcode and result.changes:
        sys.exit(EXIT_PENDING)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only show the plan (exactly `aligner plan`).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--quiet", is_flag=True, help="Print nothing when nothing changed.")
@click.option("--force", is_flag=True, help="Re-assert items a person changed by hand.")
@config_option
@click.pass_context
@handled
def apply(
    ctx: click.Context,
    dry_run: bool,
    as_json: bool,
    quiet: bool,
    force: bool,
    config_path: Path | None,
) -> None:
    """Make every surface show what the theme says it should, now."""
    if dry_run:
        ctx.invoke(
            plan,
            at=None,
            as_json=as_json,
            detailed_exitcode=False,
            force=force,
            config_path=config_path,
            quiet=quiet,
        )
        return
    state: State = ctx.find_object(State)  # type: ignore[assignment]
    config = state.theme(config_path, quiet=quiet).config
    settings = state.settings()
    now = state.now(config, quiet=quiet)
    with open_session(settings, config, lock=True) as session:
        result = session.apply(now, force=force)
    report(state, result, session, as_json, quiet)


@cli.command(short_help="Give every surface its original back now.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@pass_state
@handled
def revert(state: State, as_json: bool, config_path: Path | None) -> None:
    """Give every surface back its original now (where a person has not changed it).

    Works with a theme file that no longer validates (its problems are shown as warnings),
    as long as it can still be read: giving back needs only what the state database holds.
    """
    config = state.theme(config_path, strict=False).config
    settings = state.settings()
    now = state.now(config)
    with open_session(settings, config, lock=True) as session:
        result = session.revert(now)
    report(state, result, session, as_json, quiet=False, verb="Revert")


def report(
    state: State,
    result: ApplyResult,
    session: Session,
    as_json: bool,
    quiet: bool,
    verb: str = "Apply",
) -> None:
    if as_json:
        state.output.print(json.dumps(apply_json(result), ensure_ascii=False, indent=2))
    elif not (quiet and not result.written and not result.failed):
        state.output.print(apply_text(result, session.config, verb))
    if result.failed:
        sys.exit(EXIT_FAILED)


def apply_json(result: ApplyResult) -> dict[str, Any]:
    body = result.plan.to_json()
    body["outcomes"] = [
        {**o.change.to_json(), "ok": o.ok, "detail": o.detail, "notes": list(o.notes)}
        for o in result.outcomes
    ]
    body["failed"] = dict(result.failed)
    return body


# -- status -----------------------------------------------------------------------------------


@cli.command(short_help="Phase, last changes, conflicts, next transitions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@pass_state
@handled
def status(state: State, as_json: bool, config_path: Path | None) -> None:
    """Phase, window, last apply per surface, conflicts, next transitions (no API calls)."""
    from aligner.core.status import status_report, status_text

    config = state.theme(config_path).config
    settings = state.settings()
    now = state.now(config)
    with open_session(settings, config, lock=False, surfaces={}) as session:
        data = status_report(session.store, config, now)
    if as_json:
        state.output.print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        state.output.print(status_text(data, config))


# -- rehearse / sandbox -----------------------------------------------------------------------


@cli.command()
@config_option
@pass_state
@handled
def rehearse(state: State, config_path: Path | None) -> None:
    """Replay the whole timeline against the built-in sandbox. No account, no network."""
    from aligner.core.rehearsal import rehearse as run_rehearsal

    checked = state.theme(config_path)
    for line in run_rehearsal(checked.config):
        state.output.print(line)


@cli.command(short_help="Serve the fake Slack/Google APIs locally.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port).",
)
@config_option
@pass_state
@handled
def sandbox(state: State, port: int, config_path: Path | None) -> None:
    """Serve the fake Slack/Google endpoints locally and print how to point aligner at them."""
    from aligner.sandbox.serve import serve

    for line in serve(port):
        state.output.print(line)


from aligner.cli.run import run  # noqa: E402  (defined in its own module; registered here)

cli.add_command(run)

from aligner.cli.auth import auth, doctor  # noqa: E402  (defined in their own module)

cli.add_command(auth)
cli.add_command(doctor)


def main() -> None:
    cli(prog_name="aligner")


if __name__ == "__main__":
    main()
