"""`aligner completion SHELL`: print the shell completion script (click's own)."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_ALIGNER_COMPLETE"


@click.command(short_help="Print the shell completion script (bash, zsh or fish).")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL. To enable it:

    \b
      bash:  aligner completion bash > ~/.local/share/bash-completion/completions/aligner
      zsh:   aligner completion zsh > "${fpath[1]}/_aligner"
      fish:  aligner completion fish > ~/.config/fish/completions/aligner.fish
    """
    from click.shell_completion import get_completion_class

    from aligner.cli import cli

    found = get_completion_class(shell)
    assert found is not None  # every choice is a shell click knows
    click.echo(found(cli, {}, "aligner", COMPLETE_VAR).source())
