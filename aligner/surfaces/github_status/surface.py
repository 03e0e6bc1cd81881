"""GitHub profile status: the theme's message and emoji during the window, expiring at its end.

GitHub's GraphQL API, every field checked against the public schema reference:

- read: `viewer { login status { emoji message expiresAt indicatesLimitedAvailability
  organization { login } } }` (https://docs.github.com/en/graphql/reference/queries#viewer,
  https://docs.github.com/en/graphql/reference/objects#userstatus); no status reads as null.
- write: the `changeUserStatus` mutation
  (https://docs.github.com/en/graphql/reference/mutations#changeuserstatus) with a
  `ChangeUserStatusInput` of emoji, message, expiresAt, limitedAvailability, organizationId and
  clientMutationId (https://docs.github.com/en/graphql/reference/input-objects#changeuserstatusinput);
  an input with neither emoji nor message clears the status.
- organizationId is the organisation's node id: `organization(login:) { id }`
  (https://docs.github.com/en/graphql/reference/queries#organization).

The status is public (or visible to a whole organisation), so discretion applies in full. The
original is snapshotted and given back under the shared ownership rule (`OwnedValue`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok
from aligner.core.model import Change, Json, Record
from aligner.errors import AuthError, ConfigError, SurfaceError
from aligner.state.settings import Settings
from aligner.surfaces.base import DiffContext, Finding, Ledger, Surface
from aligner.surfaces.expiring_status import diff_status
from aligner.surfaces.github_status.account import GITHUB
from aligner.surfaces.github_status.section import GitHubSection
from aligner.surfaces.github_status.settings import GitHubSettings
from aligner.theme.discretion import discretion_findings
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed
    from aligner.surfaces.github_status.client import GraphQL

MESSAGE_LIMIT = 80  # GitHub's limit on a status message
EMOJI_FORM = re.compile(r"^:[a-z0-9_+\-]+:$")
LOGIN_FORM = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
KEY = "status"
STATUS_FIELDS = "emoji message expiresAt indicatesLimitedAvailability organization { login }"
READ = f"query {{ viewer {{ login status {{ {STATUS_FIELDS} }} }} }}"
CHANGE = (
    "mutation($input: ChangeUserStatusInput!) { changeUserStatus(input: $input) "
    f"{{ clientMutationId status {{ {STATUS_FIELDS} }} }} }}"
)
ORGANIZATION = "query($login: String!) { organization(login: $login) { id login } }"
CLEARED: dict[str, Any] = {
    "message": "",
    "emoji": "",
    "expires_at": None,
    "limited": False,
    "organization": None,
}


def iso(value: Any) -> str | None:
    """An instant as GitHub's DateTime text, normalised (UTC, seconds, Z); None stays None."""
    if not value:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(node: Mapping[str, Any] | None) -> dict[str, Any]:
    """A UserStatus object (or null) as the value aligner compares and snapshots."""
    if not node:
        return dict(CLEARED)
    organization = node.get("organization") or {}
    return {
        "message": node.get("message") or "",
        "emoji": node.get("emoji") or "",
        "expires_at": iso(node.get("expiresAt")),
        "limited": bool(node.get("indicatesLimitedAvailability")),
        "organization": organization.get("login") if organization else None,
    }


def is_clear(status: Json) -> bool:
    return not status or not (status["message"] or status["emoji"] or status["limited"])


def describe(status: Json, zone: tzinfo = UTC) -> str:
    if is_clear(status):
        return "(no status)"
    text = " ".join(p for p in (status["emoji"], f"“{status['message']}”") if p)
    if status.get("limited"):
        text += " (busy)"
    if status.get("expires_at"):
        until = datetime.fromisoformat(status["expires_at"]).astimezone(zone)
        text += f" until {until:%a %d %b %H:%M %Z}"
    if status.get("organization"):
        text += f", visible to {status['organization']} members only"
    return text


def section(config: ThemeConfig) -> GitHubSection:
    return config.section(GitHubStatus.name, GitHubSection)


def rendered_status(config: ThemeConfig) -> tuple[str, str]:
    github = section(config)
    message = render(config, "github.message", github.message).strip()
    emoji = render(config, "github.emoji", github.emoji).strip()
    return message, emoji


class GitHubStatus(Surface):
    name = "github"
    title = "GitHub profile status"
    section = GitHubSection
    accounts = (GITHUB,)
    since = 2  # the [github] section came with theme schema 2
    scopes = ("user",)

    def __init__(self, graphql: GraphQL) -> None:
        self.graphql = graphql
        self._organization_ids: dict[str, str] = {}
        self._login: str | None = None

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        try:
            message, emoji = rendered_status(config)
        except ConfigError as exc:
            return [Finding.from_problem(p) for p in exc.problems]
        findings = []
        if len(message) > MESSAGE_LIMIT:
            findings.append(
                Finding(
                    "github.message",
                    f"renders to {len(message)} characters; GitHub allows {MESSAGE_LIMIT}",
                )
            )
        if emoji and not EMOJI_FORM.match(emoji):
            findings.append(
                Finding(
                    "github.emoji",
                    f"{emoji!r} is not an emoji code; write it as :name: (e.g. ':rocket:')",
                )
            )
        organization = section(config).organization
        if organization is not None and not LOGIN_FORM.match(organization):
            findings.append(
                Finding("github.organization", f"{organization!r} is not a GitHub login")
            )
        who = (
            f"every member of {organization} sees your GitHub status"
            if organization
            else "your GitHub status is public: colleagues and your employer see it"
        )
        findings += discretion_findings(config, "github.message", message, who)
        findings += discretion_findings(config, "github.emoji", emoji, who)
        return findings

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        if not config.schedule.in_window(now):
            return {KEY: None}
        message, emoji = rendered_status(config)
        github = section(config)
        return {
            KEY: {
                "message": message,
                "emoji": emoji,
                "expires_at": iso(config.schedule.window_end),
                "limited": github.limited_availability,
                "organization": github.organization,
            }
        }

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return [
            (config.schedule.window_start, "GitHub status set"),
            (config.schedule.window_end, "GitHub status expires; original restored"),
        ]

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.github_status.preview import preview

        return preview(config, now)

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        """When the status is limited to an organisation: that the organisation resolves."""
        login = section(config).organization
        if not login:
            return
        try:
            surface = cls.connect(settings, config)
            surface.organization_id(login)
        except AuthError:
            return  # the account's own checks said why
        except SurfaceError as exc:
            yield fail("github.organization", str(exc), "fix [github] organization")
            return
        yield ok("github.organization", f"{login} exists; only its members will see the status")

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        from aligner.sandbox.github.service import LOGIN, seed_account

        seed_account(box).set_status(LOGIN, "Working from home", ":house_with_garden:")

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> GitHubStatus:
        from aligner.surfaces.github_status.client import GraphQL

        github = settings.part(GitHubSettings)
        if github.github_token is None:
            raise AuthError(
                "no GitHub token: run `aligner auth github` or set ALIGNER_GITHUB_TOKEN to a "
                "personal access token with the user scope",
                cls.name,
            )
        try:
            token = github.github_token.get_secret_value()
        except AuthError as exc:  # a token file others can read
            raise AuthError(str(exc), cls.name) from None
        return cls(GraphQL(github.github_api_url, token, cls.name))

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        viewer = self.graphql(READ).data.get("viewer") or {}
        login = viewer.get("login")
        self._login = str(login).lower() if login else None  # logins ignore case
        return {KEY: status_of(viewer.get("status"))}

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The viewer's login, which the read already returns (no extra call)."""
        return self._login

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"GitHub user {account}"

    def diff(
        self, ctx: DiffContext, desired: Mapping[str, Json], current: Mapping[str, Json]
    ) -> list[Change]:
        return diff_status(
            self.name,
            KEY,
            ctx,
            desired,
            current,
            visible=_visible,
            describe=lambda s: describe(s, ctx.config.zone),
            cleared=CLEARED,
        )

    def apply(self, config: ThemeConfig, change: Change, ledger: Ledger) -> Json:
        status = change.after or CLEARED
        variables: dict[str, Any] = {"clientMutationId": uuid.uuid4().hex}
        if not is_clear(status):  # an input with no emoji and no message clears the status
            variables.update(
                message=status["message"],
                limitedAvailability=bool(status["limited"]),
                expiresAt=status["expires_at"],
            )
            if status["emoji"]:
                variables["emoji"] = status["emoji"]
            if status["organization"]:
                variables["organizationId"] = self.organization_id(status["organization"])
        payload = self.graphql(CHANGE, {"input": variables}).data.get("changeUserStatus") or {}
        return status_of(payload.get("status"))

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        return [describe(current.get(KEY), config.zone)]

    def organization_id(self, login: str) -> str:
        """The node id `organizationId` needs, looked up once per run."""
        if login not in self._organization_ids:
            found = self.graphql(ORGANIZATION, {"login": login}).data.get("organization")
            if not found or not found.get("id"):
                raise SurfaceError(f"GitHub has no organization {login!r}", self.name)
            self._organization_ids[login] = str(found["id"])
        return self._organization_ids[login]


def _visible(status: Json, now: datetime) -> Json:
    """What a visitor sees: an expired (or empty) status is no status."""
    if is_clear(status):
        return CLEARED
    expires = status.get("expires_at")
    if expires and datetime.fromisoformat(expires) <= now:
        return CLEARED
    organization = status.get("organization")
    return {**status, "organization": organization.lower() if organization else None}
