"""What `aligner doctor` checks of the Slack status: that the status emoji exists."""

from __future__ import annotations

from collections.abc import Iterator

from aligner.core.doctor import Check, ok
from aligner.errors import SurfaceError
from aligner.state.settings import Settings
from aligner.vendors.slack import oauth
from aligner.vendors.slack.client import slack_client
from aligner.vendors.slack.settings import SlackSettings

NAME = "slack.emoji"


def emoji_check(settings: Settings, emoji: str) -> Iterator[Check]:
    """Only when the token may list the workspace's emoji (emoji:read): one `emoji.list`."""
    slack = settings.part(SlackSettings)
    if slack.slack_token is None:
        return
    try:
        token = slack.slack_token.get_secret_value()
        identity = oauth.inspect_token(slack, token)
    except SurfaceError:
        return  # the account's own checks said why
    if not identity.scopes or "emoji:read" not in identity.scopes:
        return
    if not emoji:
        yield ok(NAME, "no status emoji to check")
        return
    custom = oauth.call_slack(slack_client(slack, token).emoji_list).get("emoji") or {}
    if emoji.strip(":") in custom:
        yield ok(NAME, f"{emoji} is a custom emoji of the workspace")
        return
    yield Check(
        NAME,
        "unknown",
        f"{emoji} is not a custom emoji of the workspace",
        "fine if it is one of Slack's standard emoji; otherwise fix [slack] status_emoji",
    )
