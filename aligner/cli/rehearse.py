"""`rehearse`: the whole timeline against the built-in sandbox, on a simulated clock."""

from __future__ import annotations

from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state


@click.command()
@config_option
@pass_state
@handled
def rehearse(state: State, config_path: Path | None) -> None:
    """Replay the whole timeline against the built-in sandbox. No account, no network."""
    from aligner.core.rehearsal import rehearse as run_rehearsal

    checked = state.theme(config_path)
    for line in run_rehearsal(checked.config, state.output.width()):
        state.output.painted(line)
