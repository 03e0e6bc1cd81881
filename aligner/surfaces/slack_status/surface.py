"""Slack status: the theme's text and emoji during the window, expiring at window end.

Slack has no conditional write (no etag, no If-Match on users.profile.set). So before a write
aligner makes sure its read is recent: unless the plan's read answered just before (see
`aligner.surfaces.reread`), it reads the status again (users.profile.get) and compares it with
what the plan read in the same run; if it changed, a person edited it in between: aligner writes
nothing and says so (`StatusChanged`), and the next run sees the edit. The race is narrowed, not
closed: an edit landing between that read and the write (up to a quarter of a second plus a
round trip apart) is still overwritten, and then shows as aligner's own value. Runs with
nothing to write read once.

The account (`account_id`: "TEAM/USER" from auth.test) costs a call of its own — users.profile.get
does not say whose profile it is — so it is asked only in runs that have something to write, give
back or report here: a run with nothing to do stays one call, and a token switched to another user
is noticed before anything is written or called a hand edit (that is a change to report). When the
theme and the records already say this run will write (`account_costs_a_call`), the engine asks it
alongside the read rather than after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check
from aligner.core.model import Action, Change, Json, Record
from aligner.core.ownership import OwnedValue
from aligner.errors import AuthError, ConfigError, PermanentError
from aligner.state.settings import Settings
from aligner.surfaces.base import DiffContext, Finding, Ledger, Surface
from aligner.surfaces.reread import LastRead
from aligner.surfaces.slack_status.section import SlackSection
from aligner.theme.discretion import discretion_findings
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render
from aligner.vendors.slack.account import SLACK
from aligner.vendors.slack.settings import SlackSettings

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from aligner.sandbox.seed import SandboxSeed

STATUS_LIMIT = 100
EMOJI_FORM = re.compile(r"^:[a-z0-9_+'\-]+:$")
KEY = "status"
CLEARED: dict[str, Any] = {"text": "", "emoji": "", "expiration": 0}


class StatusChanged(PermanentError):
    """The status is no longer what the plan read in this run: a person changed it."""


def changed_since_read(action: Action) -> StatusChanged:
    then = (
        "the next run reads it again"
        if action is Action.SET
        else "the next plan shows the conflict"
    )
    return StatusChanged(
        "your Slack status changed since aligner read it in this run (someone edited it); "
        f"left as it is — {then}",
        SlackStatus.name,
    )


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


def section(config: ThemeConfig) -> SlackSection:
    return config.section(SlackStatus.name, SlackSection)


def rendered_status(config: ThemeConfig) -> tuple[str, str]:
    slack = section(config)
    text = render(config, "slack.status_text", slack.status_text).strip()
    emoji = render(config, "slack.status_emoji", slack.status_emoji).strip()
    return text, emoji


class SlackStatus(Surface):
    name = "slack"
    title = "Slack status"
    section = SlackSection
    accounts = (SLACK,)
    scopes = ("users.profile:read", "users.profile:write")
    account_costs_a_call = True

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._account: str | None = None
        self._read = LastRead()

    # -- pure ------------------------------------------------------------------------------

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
        for field, value in (("slack.status_text", text), ("slack.status_emoji", emoji)):
            findings += discretion_findings(
                config, field, value, "your Slack status is visible to your whole workspace"
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

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.slack_status.preview import preview

        return preview(config, now, cls.name)

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        from aligner.surfaces.slack_status.doctor import emoji_check

        yield from emoji_check(settings, rendered_status(config)[1])

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        from aligner.sandbox.slack.service import USER_ID, seed_account

        seed_account(box).set_status(USER_ID, "Working from home", ":house_with_garden:")

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> SlackStatus:
        from aligner.vendors.slack.client import slack_client

        slack = settings.part(SlackSettings)
        if slack.slack_token is None:
            raise AuthError(
                "no Slack token: set ALIGNER_SLACK_TOKEN to a user token (xoxp-…) "
                "with users.profile:read and users.profile:write",
                cls.name,
            )
        return cls(slack_client(slack, slack.slack_token.get_secret_value(), retry=True))

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        response = self._call("users_profile_get")
        self._read.mark()
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
        if not self._read.fresh_for(change.key):
            shows = status_of(self._call("users_profile_get").get("profile") or {})
            if shows != status_of_value(change.before):  # edited since the plan's read: theirs
                raise changed_since_read(change.action)
        status = change.after or CLEARED
        profile = {
            "status_text": status["text"],
            "status_emoji": status["emoji"],
            "status_expiration": status["expiration"],
        }
        response = self._call("users_profile_set", profile=profile)
        return status_of(response.get("profile") or profile)

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """ "TEAM_ID/USER_ID" from auth.test, asked once per run and only when `needed`."""
        if self._account is None and needed:
            who = self._call("auth_test")
            self._account = f"{who.get('team_id')}/{who.get('user_id')}"
        return self._account

    @classmethod
    def describe_account(cls, account: str) -> str:
        team, _, user = account.partition("/")
        return f"Slack user {user} in workspace {team}"

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        return [describe(current.get(KEY), config.zone)]

    def _call(self, method: str, **kwargs: Any) -> Any:
        from aligner.vendors.slack.client import call

        return call(getattr(self.client, method), self.name, **kwargs)


def status_of_value(status: Json) -> dict[str, Any]:
    """A status value as `read` returns it (None, as a plan may carry, is no status)."""
    return dict(status) if status else dict(CLEARED)


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
