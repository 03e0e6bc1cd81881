"""`init`, `validate` and `timeline`: the theme file itself, no account needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state
from aligner.errors import ConfigError


@click.command(short_help="Write an annotated starter theme file.")
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
        from aligner.theme.starter import starter_text

        text = starter_text(datetime.now(UTC).date() + timedelta(days=3))
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write it ({exc.strerror})") from None
    state.output.print(
        f"Wrote {target}. Next: edit it, then `aligner validate --config {target}` "
        f"and `aligner rehearse --config {target}`."
    )


@click.command()
@config_option
@pass_state
@handled
def validate(state: State, config_path: Path | None) -> None:
    """Check the theme file; exit 2 with one line per problem."""
    from aligner.render.text import window_line

    checked = state.theme(config_path, at=None)
    state.output.print(
        f"{state.settings().config}: valid — “{checked.config.theme.name}”, "
        f"{window_line(checked.config)}"
    )


@click.command()
@config_option
@pass_state
@handled
def timeline(state: State, config_path: Path | None) -> None:
    """Every transition of the theme, in order, in the theme timezone."""
    from aligner.core.timeline import transitions
    from aligner.render.text import local

    config = state.theme(config_path).config
    for item in transitions(config):
        state.output.print(f"{local(item.at, config.zone)}  {item.what}")
