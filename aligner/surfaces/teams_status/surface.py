"""Microsoft Teams status message: the theme's message during the window, expiring at its end.

Microsoft Graph, every shape checked against the reference:

- read: `GET /me/presence` (https://learn.microsoft.com/en-us/graph/api/presence-get); its
  `statusMessage` is a presenceStatusMessage
  (https://learn.microsoft.com/en-us/graph/api/resources/presencestatusmessage) of `message`
  (an itemBody; only contentType "text" is supported), `expiryDateTime` (a dateTimeTimeZone,
  https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone) and the read-only
  `publishedDateTime`; no message reads as null. The presence's `id` is the user's object id,
  which serves as the account id (no extra call).
- write: `POST /me/presence/setStatusMessage`
  (https://learn.microsoft.com/en-us/graph/api/presence-setstatusmessage) with
  `{"statusMessage": {"message": {"content", "contentType": "text"}, "expiryDateTime"}}`;
  200 with no body. Graph documents no way to clear a message; an empty content is what clients
  send, and what aligner sends to give back "no message".
- Both need Presence.ReadWrite for a work or school account: Graph supports neither call for a
  personal Microsoft account, which aligner says in one line.

The expiry is sent in UTC (`"timeZone": "UTC"`), not in the theme's zone. The expiry is an
instant and Teams shows it to each colleague in their own zone, so the label never shows. The
setStatusMessage page's only example uses a Windows zone name ("Pacific Standard Time"); the
dateTimeTimeZone page lists IANA names as "additional time zones" but warns that a method may
support fewer, and does not say presence accepts them. aligner has no IANA-to-Windows table, and
"UTC" is a valid Windows zone id, so UTC is the one choice that is certainly accepted.

The status message is shown to colleagues in Teams (and Outlook), so discretion applies. The
original is snapshotted and given back under the shared ownership rule (`OwnedValue`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from aligner.core.doctor import Check, fail, ok
from aligner.core.model import Action, Change, Json, Record
from aligner.errors import AuthError, ConfigError, PermanentError, SurfaceError
from aligner.state.settings import Settings
from aligner.surfaces.base import DiffContext, Finding, Ledger, Surface
from aligner.surfaces.expiring_status import diff_status
from aligner.surfaces.reread import LastRead
from aligner.surfaces.teams_status.section import TeamsSection
from aligner.theme.discretion import discretion_findings
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render
from aligner.vendors.microsoft.account import MICROSOFT
from aligner.vendors.microsoft.scopes import PRESENCE
from aligner.vendors.microsoft.zones import zone_named

if TYPE_CHECKING:
    from aligner.sandbox.seed import SandboxSeed
    from aligner.vendors.microsoft.graph import Graph

# Graph documents no length limit for statusMessage.message.content (neither the
# setStatusMessage nor the presenceStatusMessage page gives one). 280 is the limit of the Teams
# client's own "Set status message" box (its counter stops there), which is what colleagues
# could type themselves; it is not confirmed by any Microsoft page aligner could find, so treat
# it as the client's limit, not Graph's (confidence: medium). Longer text could be cut or
# refused; validate refuses it first.
MESSAGE_LIMIT = 280
EMOJI_CODE = re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?![\w:])")  # Slack's :name: form
KEY = "status"
PRESENCE_PATH = "me/presence"
SET_PATH = "me/presence/setStatusMessage"
CLEARED: dict[str, Any] = {"message": "", "expires_at": None}
PERSONAL = re.compile(r"\b(MSA|personal|consumer)\b", re.IGNORECASE)
WORK_ACCOUNT = (
    "Teams presence needs a work or school account, and Microsoft Graph says this is a personal "
    "Microsoft account: run `aligner auth microsoft` with your work account, or set "
    "[teams] enabled = false"
)


def iso(value: datetime | None) -> str | None:
    """An instant as aligner keeps it: UTC, whole seconds, Z; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(name: str) -> tzinfo:
    """The zone of a Graph expiry (IANA or Windows id); an unknown name is read as UTC, the zone
    Graph reports presence expiries in."""
    return zone_named(name) or UTC


def expiry_of(value: Any) -> str | None:
    """A dateTimeTimeZone (`dateTime` without offset, `timeZone`) as an instant; None when there
    is none, or when it stands for "never" (.NET's DateTime.MaxValue, year 9999)."""
    if not isinstance(value, Mapping) or not value.get("dateTime"):
        return None
    text = str(value["dateTime"])
    try:
        wall = datetime.fromisoformat(text[:26] if "." in text else text)
        if wall.year >= 9999:
            return None
        if wall.tzinfo is None:
            wall = wall.replace(tzinfo=_zone(str(value.get("timeZone") or "UTC")))
        return iso(wall)
    except (ValueError, OverflowError):
        return None


class StatusChanged(PermanentError):
    """The message is no longer what the plan read in this run: a person changed it."""


def status_of(node: Any) -> dict[str, Any]:
    """A presenceStatusMessage (or null) as the value aligner compares and snapshots."""
    if not isinstance(node, Mapping):
        return dict(CLEARED)
    item = node.get("message") or {}
    content = str(item.get("content") or "") if isinstance(item, Mapping) else ""
    if not content:
        return dict(CLEARED)
    return {"message": content, "expires_at": expiry_of(node.get("expiryDateTime"))}


def is_clear(status: Json) -> bool:
    return not status or not status.get("message")


def describe(status: Json, zone: tzinfo = UTC) -> str:
    if is_clear(status):
        return "(no status message)"
    text = f"“{status['message']}”"
    if status.get("expires_at"):
        until = datetime.fromisoformat(status["expires_at"]).astimezone(zone)
        text += f" until {until:%a %d %b %H:%M %Z}"
    return text


def section(config: ThemeConfig) -> TeamsSection:
    return config.section(TeamsStatus.name, TeamsSection)


def rendered_message(config: ThemeConfig) -> str:
    """The message as colleagues read it: the template rendered once, trimmed."""
    return render(config, "teams.message", section(config).message).strip()


def request_body(status: Json) -> dict[str, Any]:
    """setStatusMessage's body for a value: its text and expiry, or an empty text to clear."""
    status = status or CLEARED
    message: dict[str, Any] = {
        "message": {"content": status.get("message") or "", "contentType": "text"}
    }
    if not is_clear(status) and status.get("expires_at"):
        until = datetime.fromisoformat(status["expires_at"]).astimezone(UTC)
        message["expiryDateTime"] = {
            "dateTime": until.strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        }
    return {"statusMessage": message}


class TeamsStatus(Surface):
    name = "teams"
    title = "Teams status"
    section = TeamsSection
    accounts = (MICROSOFT,)
    since = 2  # the [teams] section came with theme schema 2
    scopes = (PRESENCE,)

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._user_id: str | None = None
        self._read = LastRead()

    # -- pure ------------------------------------------------------------------------------

    @classmethod
    def check(cls, config: ThemeConfig) -> list[Finding]:
        try:
            message = rendered_message(config)
        except ConfigError as exc:
            return [Finding.from_problem(p) for p in exc.problems]
        findings = []
        if not message.strip():
            findings.append(
                Finding(
                    "teams.message",
                    "renders to empty text: setting it would clear your Teams status message; "
                    "write a message, or set [teams] enabled = false",
                )
            )
        code = EMOJI_CODE.search(message)
        if code:
            findings.append(
                Finding(
                    "teams.message",
                    f"{code.group(0)} is a Slack emoji code: Teams shows it as typed (a status "
                    "message is plain text; paste the emoji itself)",
                    "warning",
                )
            )
        if len(message) > MESSAGE_LIMIT:
            findings.append(
                Finding(
                    "teams.message",
                    f"renders to {len(message)} characters; Teams allows {MESSAGE_LIMIT}",
                )
            )
        findings += discretion_findings(
            config,
            "teams.message",
            message,
            "your Teams status message is shown to everyone you work with in Teams and Outlook",
        )
        return findings

    @classmethod
    def desired(cls, config: ThemeConfig, now: datetime) -> dict[str, Json]:
        if not config.schedule.in_window(now):
            return {KEY: None}
        return {
            KEY: {
                "message": rendered_message(config),
                "expires_at": iso(config.schedule.window_end),
            }
        }

    @classmethod
    def transitions(cls, config: ThemeConfig) -> list[tuple[datetime, str]]:
        return [
            (config.schedule.window_start, "Teams status message set"),
            (config.schedule.window_end, "Teams status message expires; original restored"),
        ]

    @classmethod
    def preview(cls, config: ThemeConfig, now: datetime) -> Any:
        from aligner.surfaces.teams_status.preview import preview

        return preview(config, now)

    @classmethod
    def doctor(cls, settings: Settings, config: ThemeConfig) -> Iterator[Check]:
        """One read of the presence: it works, and the account is a work or school one."""
        try:
            surface = cls.connect(settings, config)
            try:
                surface.read(config, {})
            finally:
                surface.close()
        except SurfaceError as exc:
            personal = str(exc) == WORK_ACCOUNT
            yield fail(
                "teams.presence",
                "a personal Microsoft account has no Teams presence" if personal else str(exc),
                "sign in with a work or school account: `aligner auth microsoft`"
                if personal
                else "",
            )
            return
        yield ok("teams.presence", "Teams presence and status message are readable")

    @classmethod
    def seed(cls, box: SandboxSeed) -> None:
        from aligner.sandbox.microsoft.common import grant_sandbox_scopes, seed_account
        from aligner.sandbox.microsoft.presence import PresenceService

        directory = seed_account(box)
        grant_sandbox_scopes(directory, PRESENCE)
        service = box.add(PresenceService(directory=directory, clock=box.clock))
        service.set_message("Working from the Lisbon office this week")

    # -- I/O -------------------------------------------------------------------------------

    @classmethod
    def connect(cls, settings: Settings, config: ThemeConfig) -> TeamsStatus:
        from aligner.vendors.microsoft.settings import MicrosoftSettings
        from aligner.vendors.microsoft.token import graph_for

        try:
            graph = graph_for(settings.part(MicrosoftSettings), cls.scopes, cls.name)
        except AuthError as exc:
            raise AuthError(str(exc), cls.name) from None
        return cls(graph)

    def read(self, config: ThemeConfig, records: Mapping[str, Record]) -> dict[str, Json]:
        presence = self._call("GET", PRESENCE_PATH).json()
        self._read.mark()
        user = presence.get("id")
        self._user_id = str(user) if user else None
        return {KEY: status_of(presence.get("statusMessage"))}

    def account_id(self, current: Mapping[str, Json], *, needed: bool) -> str | None:
        """The user's object id, which the presence read already returns (no extra call)."""
        return self._user_id

    @classmethod
    def describe_account(cls, account: str) -> str:
        return f"Microsoft 365 user {account}"

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
        # Graph has no conditional write for presence: unless this run's read answered just
        # now, read again before writing, so a message a person set since then is left alone
        # (the race narrows to one round trip; the next run's read catches anything later).
        if not self._read.fresh_for(change.key):
            self._unchanged_since_read(change)
        status = change.after if not is_clear(change.after) else CLEARED
        self._call("POST", SET_PATH, request_body(status))
        return dict(status)  # setStatusMessage answers 200 with no body: Graph keeps what it got

    def _unchanged_since_read(self, change: Change) -> None:
        shows = status_of(self._call("GET", PRESENCE_PATH).json().get("statusMessage"))
        if shows != (dict(change.before) if not is_clear(change.before) else dict(CLEARED)):
            raise StatusChanged(
                "your Teams status message changed since aligner read it in this run (someone "
                "edited it); left as it is — "
                + (
                    "the next run reads it again"
                    if change.action is Action.SET
                    else "the next plan shows the conflict"
                ),
                self.name,
            )

    def show(self, config: ThemeConfig, current: Mapping[str, Json]) -> list[str]:
        return [describe(current.get(KEY), config.zone)]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One Graph call (retries within the run's wait budget are Graph's own), on the run's
        one connection (closed by `close` when the run ends)."""
        try:
            return self.graph.call(method, path, body=body)
        except AuthError as exc:
            if getattr(exc, "http_status", None) == 403 and PERSONAL.search(str(exc)):
                error = AuthError(WORK_ACCOUNT, self.name)
                error.http_status = 403
                raise error from None
            raise

    def close(self) -> None:
        self.graph.close()


def _visible(status: Json, now: datetime) -> Json:
    """What colleagues see: an expired (or empty) message is no message."""
    if is_clear(status):
        return CLEARED
    expires = status.get("expires_at")
    if expires and datetime.fromisoformat(expires) <= now:
        return CLEARED
    return {"message": status["message"], "expires_at": expires}
