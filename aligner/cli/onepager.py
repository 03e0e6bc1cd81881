"""`aligner onepager`: the impact one-pager (.html, .md or .pdf) from the theme's numbers."""

from __future__ import annotations

from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state

DEFAULT_OUT = Path("onepager.html")


@click.command(short_help="Write the impact one-pager (.html, .md or .pdf).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where to write it; the extension picks the format: .html, .md or .pdf.",
)
@config_option
@pass_state
@handled
def onepager(state: State, out: Path, config_path: Path | None) -> None:
    """Write the impact one-pager: problem, hypothesis, experiment design, the result (each
    metric before → after, its change and a chart), business implication and next steps.

    The texts come from the theme's [story] section; the numbers from its [[metrics]], the same
    ones every other text uses. A .pdf needs the pdf extra: pip install 'signal-aligner[pdf]'."""
    from aligner.render.onepager import write
    from aligner.theme.validation import load_theme

    config = load_theme(state.settings(config_path).config, strict=False).config
    page = write(config, out)
    for field in page.missing():
        state.output.error(f"note: {field} is empty, so the one-pager leaves that part out")
    state.output.print(f"Wrote {out}.")
