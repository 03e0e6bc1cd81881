"""The Slack account: its settings, `aligner auth slack`, and what `aligner doctor` checks of it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok, token_check
from aligner.errors import ConfigError, SurfaceError
from aligner.state.credentials import chosen_store, keep_credential, shadowed_by_environment
from aligner.state.settings import Settings
from aligner.surfaces.base import (
    STORE_OPTION,
    Account,
    AccountNeeds,
    AuthFlow,
    AuthOption,
    AuthTalk,
)
from aligner.theme.schema import ThemeConfig
from aligner.vendors.slack import oauth
from aligner.vendors.slack.settings import TOKEN_FILE, SlackSettings

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed

NAME = "slack"


class SlackAuth(AuthFlow):
    help = "Get a Slack user token (OAuth v2, or --token), check it with auth.test, store it."
    options = (
        AuthOption(
            "--token",
            "Store an existing user token (xoxp-…), read from standard input or a hidden "
            "prompt (never from the command line, which `ps` and shell history show).",
            flag_value="-",
        ),
        AuthOption("--client-id", "Your Slack app's client id ($ALIGNER_SLACK_CLIENT_ID)."),
        AuthOption("--no-browser", "Print the URL instead of opening a browser.", is_flag=True),
        AuthOption(
            "--port",
            "Loopback port; must match your app's redirect URL.",
            default=oauth.DEFAULT_PORT,
        ),
        STORE_OPTION,
    )

    def run(
        self,
        talk: AuthTalk,
        settings: Settings,
        config: ThemeConfig | None,
        scopes: Sequence[str],
        options: Mapping[str, Any],
    ) -> bool:
        slack = settings.part(SlackSettings)
        store = chosen_store(options.get("store"))
        needed = oauth.user_scopes(scopes)
        token = options.get("token")
        if token is not None and token != "-":
            raise ConfigError(
                "--token: a token on the command line shows in `ps` and in your shell history; "
                "pipe it (`… | aligner auth slack --token`) or type it at the hidden prompt"
            )
        if token is not None:
            token = talk.secret("Slack user token (xoxp-…)")
        else:
            token = _oauth_token(talk, slack, options, needed)
        talk.keep_secret(token)
        identity = oauth.inspect_token(slack, token or "")
        oauth.require_usable(identity, needed)
        where = keep_credential(
            slack.credentials_dir,
            "slack_token",
            TOKEN_FILE,
            token or "",
            store,
        )
        talk.say(f"Stored the Slack token for {identity.user} in {identity.team} at {where}.")
        shadowed = shadowed_by_environment(slack, "slack_token", "stored token")
        if shadowed:
            talk.warn(shadowed)
        return True


def _oauth_token(
    talk: AuthTalk, slack: SlackSettings, options: Mapping[str, Any], scopes: list[str]
) -> str:
    client_id = options.get("client_id") or slack.slack_client_id
    if not client_id:
        raise ConfigError(
            "--client-id: give your Slack app's client id (or set ALIGNER_SLACK_CLIENT_ID), "
            "or pass --token to store a token you already have"
        )
    if slack.slack_client_secret is not None:
        secret = slack.slack_client_secret.get_secret_value()
    else:
        secret = talk.secret("Slack app client secret")
    talk.keep_secret(secret)
    talk.say("Asking Slack for the user scopes: " + ", ".join(scopes))
    no_browser = bool(options.get("no_browser"))
    return oauth.oauth_flow(
        slack,
        str(client_id),
        secret,
        scopes,
        announce=lambda url: talk.show_url(url, open_browser=not no_browser),
        open_browser=not no_browser,
        port=int(options.get("port") or oauth.DEFAULT_PORT),
    )


class SlackAccount(Account):
    name = NAME
    title = "Slack"
    settings = SlackSettings

    def auth(self) -> AuthFlow:
        return SlackAuth()

    def doctor(
        self, settings: Settings, scopes: Mapping[str, Sequence[str]], needs: AccountNeeds
    ) -> Iterator[Check]:
        slack = settings.part(SlackSettings)
        credentials = token_check(NAME, "Slack", slack, "slack_token")
        yield credentials
        token = slack.slack_token
        if credentials.failed or token is None:
            return
        try:
            identity = oauth.inspect_token(slack, token.get_secret_value())
        except SurfaceError as exc:
            yield fail(
                f"{NAME}.works", f"auth.test failed: {exc}", "run `aligner auth slack` again"
            )
            return
        yield ok(f"{NAME}.works", f"signed in as {identity.user} in {identity.team}")
        needed = oauth.user_scopes([s for group in scopes.values() for s in group])
        yield scope_check(identity, needed)

    def seed(self, box: SandboxSeed) -> None:
        from aligner.sandbox.slack.service import seed_account

        seed_account(box)

    def sandbox_env(self, url: str) -> dict[str, str]:
        from aligner.sandbox.slack.service import sandbox_env

        return sandbox_env(url)


def scope_check(identity: oauth.SlackIdentity, needed: list[str]) -> Check:
    try:
        oauth.require_usable(identity, needed)
    except SurfaceError as exc:
        return fail(f"{NAME}.scopes", str(exc))
    if identity.scopes is None:
        return Check(f"{NAME}.scopes", "unknown", "Slack did not list the token's scopes")
    return ok(f"{NAME}.scopes", f"token has {', '.join(needed)}")


SLACK = SlackAccount()
