"""`aligner resume`: lift a revert, so apply (and the daemon) show the theme again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state


@click.command(short_help="Lift a revert: apply shows the theme again.")
@config_option
@pass_state
@handled
def resume(state: State, config_path: Path | None) -> None:
    """Lift a revert made by `aligner revert`. Nothing is written to any surface now: the next
    `aligner apply` (or the daemon's next check) shows what the theme says for that moment."""
    from aligner.core.session import open_session
    from aligner.render.text import local, wrap

    config = state.theme(config_path, strict=False).config
    now = state.now(config)
    with open_session(state.settings(), config, lock=True, surfaces={}) as session:
        when = session.resume(now)
    if when is None:
        state.output.print("No revert is in force: nothing to resume.")
        return
    state.output.print(
        wrap(
            f"Resumed: the revert of {local(datetime.fromisoformat(when), config.zone)} is "
            "lifted; the next `aligner apply` (or the daemon's next check) shows the theme again.",
            state.output.width(),
        )
    )
