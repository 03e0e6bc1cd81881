"""`aligner auth NAME`: one command per account an enabled-or-not surface can act as.

The accounts bring their own sign-in flows (`Account.auth()`); this module turns each flow's
declared options into click options and gives it a way to talk to the person (`AuthTalk`)
through the scrubbing Output: every token learnt is added to the secrets never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aligner.cli.context import EXIT_FAILED, State, config_option, handled, pass_state
from aligner.errors import ConfigError

if TYPE_CHECKING:
    from aligner.surfaces.base import Account, AuthFlow, AuthOption
    from aligner.theme.schema import ThemeConfig


class CliTalk:
    """How a sign-in flow talks to the person on a terminal (an `AuthTalk`)."""

    def __init__(self, state: State) -> None:
        self.state = state

    def say(self, text: str) -> None:
        self.state.output.print(text)

    def warn(self, text: str) -> None:
        self.state.output.error(text)

    def secret(self, prompt: str) -> str:
        if not sys.stdin.isatty():  # piped in: read it plainly, no echo warning
            return sys.stdin.readline().strip()
        return str(click.prompt(prompt, hide_input=True)).strip()

    def keep_secret(self, *values: str | None) -> None:
        self.state.remember_secrets(*values)

    def show_url(self, url: str, *, open_browser: bool) -> None:
        if open_browser:
            self.say("Opening your browser. If it does not open, visit this URL:")
        else:
            self.say("Open this URL in a browser and allow access:")
        self.say(url)


def _accounts() -> dict[str, Account]:
    from aligner.surfaces import all_accounts

    return {account.name: account for account in all_accounts() if account.auth() is not None}


class AccountsGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_accounts())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        account = _accounts().get(cmd_name)
        flow = account.auth() if account is not None else None
        if account is None or flow is None:
            return None
        return _command(account, flow)


@click.group(cls=AccountsGroup, short_help="Get and store credentials for an account.")
def auth() -> None:
    """Get credentials for the accounts surfaces use and store them privately (mode 0600)."""


def _option(spec: AuthOption) -> Callable[[Any], Any]:
    extra: dict[str, Any] = {"default": spec.default, "help": spec.help}
    if spec.is_flag:
        extra["is_flag"] = True
    elif spec.flag_value is not None:
        extra.update(is_flag=False, flag_value=spec.flag_value)
    elif spec.path:
        extra["type"] = click.Path(path_type=Path)
    elif spec.default is not None:
        extra["show_default"] = True
    return click.option(spec.flag, **extra)


def _command(account: Account, flow: AuthFlow) -> click.Command:
    def run(state: State, config_path: Path | None, **options: Any) -> None:
        settings = state.settings(config_path)
        config = _theme(state, config_path, strict=flow.needs_theme)
        scopes = _scopes(config, account, required=flow.needs_theme)
        if not flow.run(CliTalk(state), settings, config, scopes, options):
            sys.exit(EXIT_FAILED)

    command: Callable[..., None] = handled(run)
    command = pass_state(command)
    command = config_option(command)
    for spec in reversed(flow.options):
        command = _option(spec)(command)
    return click.command(account.name, help=flow.help, short_help=flow.help)(command)


def _theme(state: State, config_path: Path | None, *, strict: bool) -> ThemeConfig | None:
    if strict:
        return state.theme(config_path).config
    from aligner.theme.validation import load_theme

    try:
        return load_theme(state.settings(config_path).config).config
    except ConfigError:
        return None


def _scopes(config: ThemeConfig | None, account: Account, *, required: bool) -> list[str]:
    from aligner.surfaces import REGISTRY, account_scopes

    scopes = account_scopes(config, account) if config is not None else []
    if required and not scopes:
        sections: Mapping[str, str] = {
            cls.name: cls.enabling(account) for cls in REGISTRY if account in cls.accounts
        }
        listed = [f"`{text}`" for text in sections.values()]
        either = ", ".join(listed[:-1]) + f" or {listed[-1]}" if len(listed) > 1 else listed[0]
        raise ConfigError(
            f"auth {account.name}: no {account.title} surface is enabled in the theme; "
            f"set {either} first"
        )
    return scopes
