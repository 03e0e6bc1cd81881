"""The command line. The only code that prints and chooses exit codes.

Commands live one module (or group) each in this package and are imported only when run:
`aligner --help` imports click and nothing else of weight (no vendor SDK, no pydantic).

Exit codes: 0 success; 1 a surface failed (others still applied) or the lock is held;
2 usage or configuration error, or a state database to move aside; 3 `plan --detailed-exitcode`
with changes pending.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from aligner import __version__

# name -> (module in this package, attribute, one-line help shown by `aligner --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("theme_files", "init", "Write an annotated starter theme file."),
    "validate": (
        "theme_files",
        "validate",
        "Check the theme file; exit 2 with one line per problem.",
    ),
    "timeline": (
        "theme_files",
        "timeline",
        "Every transition of the theme, in order, in the theme timezone.",
    ),
    "rehearse": ("rehearse", "rehearse", "Replay the whole timeline against the built-in sandbox."),
    "plan": ("plan", "plan", "Show what apply would change; writes nothing."),
    "apply": ("plan", "apply", "Make every surface show what the theme says it should, now."),
    "revert": ("plan", "revert", "Give every surface its original back now."),
    "completion": ("completion", "completion", "Print the shell completion script."),
    "onepager": ("onepager", "onepager", "Write the impact one-pager (.html, .md or .pdf)."),
    "preview": ("preview", "preview", "Write an HTML page showing what each audience sees."),
    "resume": ("resume", "resume", "Lift a revert: apply shows the theme again."),
    "status": ("status", "status", "Phase, last changes, conflicts, next transitions."),
    "run": ("run", "run", "Stay running: apply at every transition."),
    "sandbox": ("sandbox", "sandbox", "Serve the fake Slack/Google APIs locally."),
    "auth": ("auth", "auth", "Get and store credentials for the accounts surfaces use."),
    "doctor": ("doctor", "doctor", "Check everything a real run needs."),
}


# The order `aligner --help` lists commands in: the workflow first, then the rest.
WORKFLOW = ("init", "validate", "rehearse", "plan", "apply", "revert", "resume")

EPILOG = """\b
Workflow: init → validate → rehearse → plan → apply → revert → resume

\b
Exit codes:
  0  success
  1  a surface failed (the others still applied), or another run holds the lock
  2  usage or configuration error (a theme problem, a bad setting, a missing extra)
  3  `plan --detailed-exitcode`: changes are pending"""


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy-loading)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*WORKFLOW, *sorted(set(COMMANDS) - set(WORKFLOW))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(f"{__name__}.{entry[0]}")
        command: click.Command = getattr(module, entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour plan/apply/revert output (auto: on a terminal, unless NO_COLOR is set).",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(),
    default=None,
    help="Theme file, for any command (also accepted after the command).",
)
@click.version_option(__version__, prog_name="aligner")
@click.pass_context
def cli(ctx: click.Context, debug: bool, color: str, config_path: str | None) -> None:
    """Keep Slack, Calendar, Gmail signature and a note telling one story for a while."""
    from pathlib import Path

    from aligner.cli.context import State, color_choice

    ctx.obj = State(debug, color_choice(color), Path(config_path) if config_path else None)


def main(*args: Any) -> None:
    cli(prog_name="aligner")


if __name__ == "__main__":
    main()
