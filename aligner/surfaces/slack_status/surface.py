"""Slack status: the theme's text and emoji during the window, expiring at window end."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from aligner.core.model import Change, Json, Record
from aligner.core.ownership import OwnedValue
from aligner.errors import AuthError, ConfigError, PermanentError, SurfaceError, TransientError
from aligner.state.settings import Settings
from aligner.surfaces.base import DiffContext, Finding, Ledger, Surface
from aligner.theme.discretion import discretion_findings
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render
from aligner.vendors.slack.client import slack_client

STATUS_LIMIT = 100
EMOJI_FORM = re.compile(r"^:[a-z0-9_+'\-]+:$")
KEY = "status"
_AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive",
    "no_permission",
    "not_allowed_token_type",
}
_RETRYABLE = {
    "ratelimited",
    "rate_limited",
    "service_unavailable",
    "request_timeout",
    "fatal_error",
    "internal_error",
}
CLEARED: dict[str, Any] = {"text": "", "emoji": "", "expiration": 0}


def status_of(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "text": profile.get("status_text") or "",
        "emoji": profile.get("status_emoji") or "",
        "expiration": int(profile.get("status_expiration") or 0),
    }


def describe(status: Json, zone: tzinfo = UTC) -> str:
    if not status or (not status["text"] and not status["emoji"]):
        return "(no status)"
    text = " ".join(p for p in (status["emoji"], f"“{status['text']}”") if p)
    if status.get("expiration"):
        until = datetime.fromtimestamp(status["expiration"], zone)
        text += f" until {until:%a %d %b %H:%M %Z}"
    return text


def rendered_status(config: ThemeConfig) -> tuple[str, str]:
    text = render(config, "slack.status_text", config.slack.status_text).strip()
    emoji = render(config, "slack.status_emoji", config.slack.status_emoji).strip()
    return text, emoji


class SlackStatus(Surface):
    name = "slack"
    title = "Slack status"
    scopes = ("users.profile:read", "users.profile:write")
    secrets = ("slack_token",)

    def __init__(self, client: WebClient) -> None:
        self.client = client

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def enabled(cls, config: ThemeConfig) -> bool:
        return config.slack.enabled

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        try:
            text, emoji = rendered_status(config)
        except ConfigError as exc:
            return [Finding.from_problem(p) for p in exc.problems]
        findings = []
        if len(text) > STATUS_LIMIT:
            findings.append(
                Finding(
                    "slack.status_text",
                    f"renders to {len(text)} characters; Slack allows {STATUS_LIMIT}",
                )
            )
        if emoji and not EMOJI_FORM.match(emoji):
            findings.append(
                Finding(
                    "slack.status_emoji",
                    f"{emoji!r} is not an emoji code; write it as :name: (e.g. ':rocket:')",
                )
            )
        findings += discretion_findings(
            config,
            "slack.status_text",
            text,
            "your Slack status is visible to your whole workspace",
        )
        return findings

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        if not config.schedule.in_window(now):
            return {KEY: None}
        text, emoji = rendered_status(config)
        return {
            KEY: {
                "text": text,
                "emoji": emoji,
                "expiration": int(config.schedule.window_end.timestamp()),
            }
        }

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return [
            (config.schedule.window_start, "Slack status set"),
            (config.schedule.window_end, "Slack status expires; original restored"),
        ]

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def connect(cls, settings: Settings) -> SlackStatus:
        if settings.slack_token is None:
            raise AuthError(
                "no Slack token: set ALIGNER_SLACK_TOKEN to a user token (xoxp-…) "
                "with users.profile:read and users.profile:write",
                "slack",
            )
        client = slack_client(
            settings,
            settings.slack_token.get_secret_value(),
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=2),
                RateLimitErrorRetryHandler(max_retry_count=3),
                ServerErrorRetryHandler(max_retry_count=3),
            ],
        )
        return cls(client)

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        response = self._call("users_profile_get")
        return {KEY: status_of(response.get("profile") or {})}

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        record = ctx.records.get(KEY)
        now_ts = ctx.now.timestamp()

        def same(a: Json, b: Json) -> bool:
            return bool(_visible(a, now_ts) == _visible(b, now_ts))

        owned = OwnedValue(self.name, KEY, same, lambda s: describe(s, ctx.config.zone))
        target = None if ctx.revert else desired.get(KEY)
        original = record.snapshot if record else None
        restore_to = _restorable(original, now_ts)
        return owned.diff(target, current[KEY], record, restore_to, force=ctx.force)

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        status = change.after or CLEARED
        profile = {
            "status_text": status["text"],
            "status_emoji": status["emoji"],
            "status_expiration": status["expiration"],
        }
        response = self._call("users_profile_set", profile=profile)
        return status_of(response.get("profile") or profile)

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        return [describe(current.get(KEY), config.zone)]

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as exc:
            raise _translate(exc) from None
        except OSError as exc:
            raise TransientError(f"cannot reach Slack ({exc})", self.name) from None


def _visible(status: Json, now_ts: float) -> Json:
    """What a person sees: an expired status is no status."""
    if not status:
        return CLEARED
    if status["expiration"] and status["expiration"] <= now_ts:
        return CLEARED
    return status


def _restorable(original: Json, now_ts: float) -> Json:
    """Restoring a status whose own expiry has passed would bring back a stale one: clear."""
    return _visible(original, now_ts) if original else CLEARED


def _translate(exc: SlackApiError) -> SurfaceError:
    response = exc.response
    code = str(response.get("error", "")) if response is not None else ""
    status = response.status_code if response is not None else 0
    if code == "missing_scope":
        needed = response.get("needed", "users.profile:write")
        return AuthError(
            f"the Slack token lacks the {needed} scope: add it to your Slack app's "
            "user token scopes and reinstall the app",
            "slack",
        )
    if code in _AUTH_ERRORS:
        return AuthError(
            f"Slack rejected the token ({code}): create a new user token and put it "
            "in ALIGNER_SLACK_TOKEN",
            "slack",
        )
    if status == 429 or status >= 500 or code in _RETRYABLE:
        retry = response.headers.get("retry-after") if response is not None else None
        return TransientError(
            f"Slack is unavailable right now ({code or status}); the next run will try again",
            "slack",
            float(retry) if retry and str(retry).isdigit() else None,
        )
    return PermanentError(f"Slack refused the change ({code or status})", "slack")
