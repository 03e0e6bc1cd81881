"""`aligner preview`: what each audience sees at a moment, as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from aligner.cli.context import State, config_option, handled, pass_state
from aligner.errors import ConfigError

DEFAULT_OUT = Path("aligner-preview.html")


@click.command(short_help="Write an HTML page showing what each audience sees.")
@click.option("--at", "at", default=None, help="Preview another moment (ISO time or e.g. -2h).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    help="Where to write the page.",
)
@click.option("--live", is_flag=True, help="Also read your accounts (read-only): before → after.")
@click.option("--open", "open_it", is_flag=True, help="Open the page in your browser.")
@config_option
@pass_state
@handled
def preview(
    state: State,
    at: str | None,
    out: Path,
    live: bool,
    open_it: bool,
    config_path: Path | None,
) -> None:
    """Write one self-contained HTML page showing what your colleagues, you and the recruiter
    see at a moment (default: now). Offline: the theme file alone, no account, no network.
    With --live it also reads every surface (writing nothing) and shows before → after.

    Findings of `validate` (e.g. discretion) are shown next to the surface they concern."""
    from aligner.render.preview import preview_html
    from aligner.theme.validation import findings, load_theme

    checked = load_theme(state.settings(config_path).config, strict=False)
    config = checked.config
    now = state.now(config, at)
    plan = None
    if live:
        from aligner.core.session import open_session

        with open_session(state.settings(), config, lock=False, readonly=True) as session:
            plan = session.plan(now)
    page = preview_html(config, now, findings(config), plan)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write it ({exc.strerror})") from None
    state.output.print(f"Wrote {out}: the {config.schedule.phase(now)} phase, as people see it.")
    if open_it:
        import webbrowser

        if not webbrowser.open(out.resolve().as_uri()):
            state.output.error(f"could not open a browser; open {out.resolve()} yourself")
