"""`sandbox`: serve the fake vendor APIs locally, for driving aligner by hand."""

from __future__ import annotations

import click

from aligner.cli.context import State, handled, pass_state


@click.command(short_help="Serve the fake Slack/Google APIs locally.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port).",
)
@pass_state
@handled
def sandbox(state: State, port: int) -> None:
    """Serve the fake Slack/Google endpoints locally and print how to point aligner at them."""
    from aligner.sandbox.serve import serve

    for line in serve(port):
        state.output.print(line)
