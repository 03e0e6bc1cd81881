"""`status`: what the state database knows, without calling any API."""

from __future__ import annotations

import json
from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state
from aligner.core.session import open_session


@click.command(short_help="Phase, last changes, conflicts, next transitions.")
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
    with open_session(settings, config, lock=False, readonly=True, surfaces={}) as session:
        data = status_report(session.store, config, now)
    if as_json:
        state.output.print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        state.output.painted(status_text(data, config))
