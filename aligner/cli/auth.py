"""The `auth` group (`auth google`, `auth slack`) and `doctor`, registered in aligner.cli.

Everything printed goes through the CLI's scrubbing Output; tokens obtained here are added to its
list of secrets the moment they exist.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aligner.cli import EXIT_FAILED, State, config_option, handled
from aligner.core.doctor import Check, run_checks
from aligner.errors import ConfigError
from aligner.theme.schema import ThemeConfig
from aligner.theme.validation import load_theme
from aligner.vendors.google import oauth as auth_google
from aligner.vendors.slack import oauth as auth_slack

MARKS = {"ok": "✓", "fail": "✗", "warn": "!", "unknown": "?"}
pass_state = click.make_pass_decorator(State)


def remember_secrets(state: State, *values: str | None) -> None:
    state.output.secrets.extend(v for v in values if v and len(v) >= 4)


def announce_url(state: State, url: str, no_browser: bool) -> None:
    if no_browser:
        state.output.print("Open this URL in a browser and allow access:")
    else:
        state.output.print("Opening your browser. If it does not open, visit this URL:")
    state.output.print(url)


@click.group(short_help="Get and store Slack or Google credentials.")
def auth() -> None:
    """Get credentials for Slack and Google and store them privately (mode 0600)."""


@auth.command("google")
@click.option(
    "--client-secrets",
    type=click.Path(path_type=Path),
    default=None,
    help='OAuth client file of type "Desktop app" (default: $ALIGNER_GOOGLE_CLIENT_SECRETS).',
)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--port", default=0, show_default=True, help="Loopback port for the redirect.")
@config_option
@pass_state
@handled
def auth_google_command(
    state: State,
    client_secrets: Path | None,
    no_browser: bool,
    port: int,
    config_path: Path | None,
) -> None:
    """Authorize aligner for the enabled Google surfaces (asks only for their scopes)."""
    config = state.theme(config_path).config
    settings = state.settings()
    source = client_secrets or settings.google_client_secrets
    if source is None:
        raise ConfigError(
            '--client-secrets: give the OAuth client file ("Desktop app") from your Google '
            "Cloud project, or set ALIGNER_GOOGLE_CLIENT_SECRETS"
        )
    scopes = auth_google.needed_scopes(config)
    flow = auth_google.load_client(source, scopes)
    state.output.print("Asking Google for: " + ", ".join(map(auth_google.short, scopes)))
    creds = auth_google.authorize(
        flow,
        announce=lambda url: announce_url(state, url, no_browser),
        open_browser=not no_browser,
        port=port,
    )
    remember_secrets(state, creds.token, creds.refresh_token, creds.client_secret)
    grant = auth_google.save_grant(creds, settings.google_credentials_target, scopes)
    granted = ", ".join(map(auth_google.short, grant.scopes))
    state.output.print(f"Saved Google credentials to {grant.path} (mode 0600). Granted: {granted}")
    if grant.missing:
        missing = ", ".join(map(auth_google.short, grant.missing))
        state.output.error(
            f"error: Google did not grant {missing}: run `aligner auth google` again and "
            "allow every requested access"
        )
        sys.exit(EXIT_FAILED)


@auth.command("slack")
@click.option(
    "--token",
    is_flag=False,
    flag_value="-",
    default=None,
    help="Store an existing user token (xoxp-…); with no value it is read from a hidden prompt.",
)
@click.option(
    "--client-id", default=None, help="Your Slack app's client id ($ALIGNER_SLACK_CLIENT_ID)."
)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option(
    "--port",
    default=auth_slack.DEFAULT_PORT,
    show_default=True,
    help="Loopback port; must match your app's redirect URL.",
)
@config_option
@pass_state
@handled
def auth_slack_command(
    state: State,
    token: str | None,
    client_id: str | None,
    no_browser: bool,
    port: int,
    config_path: Path | None,
) -> None:
    """Get a Slack user token (OAuth v2, or --token), check it with auth.test, store it."""
    settings = state.settings(config_path)
    needed = auth_slack.needed_user_scopes(_theme_or_none(settings.config))
    if token is not None:
        if token == "-" and not sys.stdin.isatty():  # piped in: read it plainly, no echo warning
            token = sys.stdin.readline().strip()
        elif token == "-":
            token = click.prompt("Slack user token (xoxp-…)", hide_input=True).strip()
    else:
        token = _oauth_token(state, client_id, needed, no_browser, port)
    remember_secrets(state, token)
    identity = auth_slack.inspect_token(settings, token or "")
    auth_slack.require_usable(identity, needed)
    path = auth_slack.store_token(settings, token or "")
    state.output.print(
        f"Stored the Slack token for {identity.user} in {identity.team} at {path} (mode 0600)."
    )
    if auth_slack.origin_is_environment(settings):
        state.output.error(
            "note: ALIGNER_SLACK_TOKEN is set in the environment or .env and wins over the "
            "stored token; unset it to use this one"
        )


def _oauth_token(
    state: State, client_id: str | None, scopes: list[str], no_browser: bool, port: int
) -> str:
    settings = state.settings()
    client_id = client_id or settings.slack_client_id
    if not client_id:
        raise ConfigError(
            "--client-id: give your Slack app's client id (or set ALIGNER_SLACK_CLIENT_ID), "
            "or pass --token to store a token you already have"
        )
    if settings.slack_client_secret is not None:
        secret = settings.slack_client_secret.get_secret_value()
    else:
        secret = click.prompt("Slack app client secret", hide_input=True).strip()
    remember_secrets(state, secret)
    state.output.print("Asking Slack for the user scopes: " + ", ".join(scopes))
    return auth_slack.oauth_flow(
        settings,
        client_id,
        secret,
        scopes,
        announce=lambda url: announce_url(state, url, no_browser),
        open_browser=not no_browser,
        port=port,
    )


def _theme_or_none(path: Path) -> ThemeConfig | None:
    try:
        return load_theme(path).config
    except ConfigError:
        return None


@click.command(short_help="Check everything a real run needs.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@pass_state
@handled
def doctor(state: State, as_json: bool, config_path: Path | None) -> None:
    """Check everything a real run needs; one line per check with what to fix."""
    checks = run_checks(state.settings(config_path))
    failed = any(c.failed for c in checks)
    if as_json:
        body = {"ok": not failed, "checks": [c.to_json() for c in checks]}
        state.output.print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for check in checks:
            state.output.print(check_line(check))
    if failed:
        sys.exit(EXIT_FAILED)


def check_line(check: Check) -> str:
    line = f"{MARKS[check.status]} {check.name}: {check.detail}"
    return f"{line} — {check.remedy}" if check.remedy else line
