"""`aligner doctor`: everything a real run needs, checked, each with what to do about it.

One `Check` per line: the theme file, its timezone, the state directory, then for every enabled
surface its credentials (present, private, working with one cheap read call, carrying the needed
scopes) and what the theme relies on (the Gmail send-as address, the Slack status emoji, focus
time on the calendar). Vendor knowledge lives here and in auth_slack/auth_google, never in the
engine. Returns data only; the CLI prints it.
"""

from __future__ import annotations

import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aligner.errors import AlignerError, ConfigError, SurfaceError
from aligner.state.credentials import RefusedSecret, origin
from aligner.state.settings import Settings
from aligner.theme.schema import ThemeConfig
from aligner.theme.timespec import TimeSpecError, load_zone
from aligner.theme.validation import load_theme
from aligner.vendors.google import oauth as auth_google
from aligner.vendors.google.client import (
    CALENDAR_EVENTS,
    GMAIL_COMPOSE,
    GMAIL_SETTINGS_BASIC,
    build_service,
    execute,
    load_credentials,
)
from aligner.vendors.slack import oauth as auth_slack
from aligner.vendors.slack.client import slack_client

Status = Literal["ok", "fail", "warn", "unknown"]
CONSUMER_DOMAINS = ("gmail.com", "googlemail.com")
REAUTH_GOOGLE = "run `aligner auth google` again"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    remedy: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, remedy: str = "") -> Check:
    return Check(name, "fail", detail, remedy)


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order. Never raises for a problem it can describe."""
    theme, config = check_theme(settings)
    checks = [theme, check_timezone(settings, config), check_state_dir(settings)]
    if config is not None:
        checks += _guarded("slack", lambda: slack_checks(settings, config))
        checks += _guarded("google", lambda: google_checks(settings, config))
    return checks


def _guarded(name: str, produce: Callable[[], Iterator[Check]]) -> list[Check]:
    try:
        return list(produce())
    except Exception as exc:  # a check must never end the report
        return [fail(name, f"the check itself failed ({type(exc).__name__}: {exc})")]


# -- theme, timezone, state dir -----------------------------------------------------------------


def check_theme(settings: Settings) -> tuple[Check, ThemeConfig | None]:
    try:
        checked = load_theme(settings.config)
    except ConfigError as exc:
        return fail("theme", "; ".join(exc.problems), "fix the theme file"), None
    return ok("theme", f"{settings.config} is valid"), checked.config


def check_timezone(settings: Settings, config: ThemeConfig | None) -> Check:
    if config is not None:
        return ok("timezone", f"{config.theme.timezone} is a known timezone")
    try:
        data = tomllib.loads(settings.config.read_text(encoding="utf-8"))
        zone = str(data["theme"]["timezone"])
    except (OSError, ValueError, KeyError, TypeError):
        return Check("timezone", "unknown", "no theme.timezone to check")
    try:
        load_zone(zone)
    except TimeSpecError as exc:
        return fail("timezone", str(exc), 'use an IANA name such as "Europe/Berlin"')
    return ok("timezone", f"{zone} is a known timezone")


def check_state_dir(settings: Settings) -> Check:
    folder = settings.state_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return fail(
            "state_dir",
            f"{folder} is not writable ({exc.strerror or exc})",
            "set ALIGNER_STATE_DIR to a folder you can write, or fix its permissions",
        )
    return ok("state_dir", f"{folder} is writable")


# -- Slack --------------------------------------------------------------------------------------


def slack_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    if not config.slack.enabled:
        return
    token = settings.slack_token
    if token is None:
        yield fail(
            "slack.credentials",
            "no Slack token",
            "run `aligner auth slack` (or set ALIGNER_SLACK_TOKEN)",
        )
        return
    if isinstance(token, RefusedSecret):
        yield fail("slack.credentials", token.problem)
        return
    yield ok("slack.credentials", f"Slack token from {origin(settings, 'slack_token')}")
    try:
        identity = auth_slack.inspect_token(settings, token.get_secret_value())
    except SurfaceError as exc:
        yield fail("slack.works", f"auth.test failed: {exc}", "run `aligner auth slack` again")
        return
    yield ok("slack.works", f"signed in as {identity.user} in {identity.team}")
    yield slack_scope_check(identity, auth_slack.needed_user_scopes(config))
    if identity.scopes and "emoji:read" in identity.scopes:
        yield slack_emoji_check(settings, token.get_secret_value(), config)


def slack_scope_check(identity: auth_slack.SlackIdentity, needed: list[str]) -> Check:
    try:
        auth_slack.require_usable(identity, needed)
    except SurfaceError as exc:
        return fail("slack.scopes", str(exc))
    if identity.scopes is None:
        return Check("slack.scopes", "unknown", "Slack did not list the token's scopes")
    return ok("slack.scopes", f"token has {', '.join(needed)}")


def slack_emoji_check(settings: Settings, token: str, config: ThemeConfig) -> Check:
    from aligner.surfaces.slack_status.surface import rendered_status

    emoji = rendered_status(config)[1]
    if not emoji:
        return ok("slack.emoji", "no status emoji to check")
    name = emoji.strip(":")
    client = slack_client(settings, token)
    custom = auth_slack.call_slack(client.emoji_list).get("emoji") or {}
    if name in custom:
        return ok("slack.emoji", f"{emoji} is a custom emoji of the workspace")
    return Check(
        "slack.emoji",
        "unknown",
        f"{emoji} is not a custom emoji of the workspace",
        "fine if it is one of Slack's standard emoji; otherwise fix [slack] status_emoji",
    )


# -- Google -------------------------------------------------------------------------------------


def google_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    surfaces = auth_google.enabled_google_surfaces(config)
    if not surfaces:
        return
    try:
        load_credentials(settings, surfaces[0])
    except SurfaceError as exc:
        yield fail("google.credentials", str(exc))
        return
    yield ok("google.credentials", google_origin(settings))
    grant = google_grant_check(settings, surfaces)
    if grant is not None:
        yield grant
    readers = {"calendar": calendar_checks, "signature": signature_checks, "note": note_checks}
    for name in surfaces:
        yield from readers[name](settings, config)


def google_origin(settings: Settings) -> str:
    if settings.google_access_token is not None:
        return f"access token from {origin(settings, 'google_access_token')}"
    if settings.google_service_account is not None:
        return (
            f"service account {settings.google_service_account} acting as {settings.google_subject}"
        )
    return f"authorized-user file {settings.google_credentials}"


def google_grant_check(settings: Settings, surfaces: list[str]) -> Check | None:
    """What the stored grant covers (a raw token or service account records none)."""
    if settings.google_access_token is not None or settings.google_service_account is not None:
        return None
    path = settings.google_credentials
    granted = auth_google.granted_scopes(path) if path is not None else None
    if granted is None:
        return None
    missing = [
        f"{auth_google.short(scope)} (for the {name})"
        for name in surfaces
        for scope in auth_google.surface_scopes(name)
        if scope not in granted
    ]
    if missing:
        return fail("google.scopes", f"the Google grant lacks {', '.join(missing)}", REAUTH_GOOGLE)
    return ok("google.scopes", "grant has " + ", ".join(auth_google.short(s) for s in granted))


def _read(
    check: str, settings: Settings, api: str, scope: str, request_of: Callable[[Any], Any]
) -> tuple[Check | None, Any]:
    """One cheap read call for the surface named by `check`; a failure becomes its ✗ line."""
    surface = check.partition(".")[0]
    try:
        service = build_service(settings, api, "v3" if api == "calendar" else "v1", surface)
        try:
            return None, execute(request_of(service), surface, scope, retry=True)
        finally:
            service.close()  # httplib2 keeps sockets open otherwise
    except AlignerError as exc:
        return fail(check, str(exc)), None


def calendar_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    calendar_id = config.calendar.calendar_id

    problem, body = _read(
        "calendar.works",
        settings,
        "calendar",
        CALENDAR_EVENTS,
        lambda service: service.events().list(calendarId=calendar_id, maxResults=1),
    )
    if problem is not None:
        yield problem
        return
    yield ok("calendar.works", f"calendar {calendar_id} is readable")
    yield focus_time_check(config, str(body.get("summary") or ""))


def focus_time_check(config: ThemeConfig, summary: str) -> Check:
    """Focus time exists only on primary calendars of (eligible) Workspace accounts."""
    name = "calendar.focus_time"
    if config.calendar.event_type != "focusTime":
        return ok(name, "not used (event_type = default)")
    fallback = 'or set [calendar] event_type = "default" for plain busy blocks'
    if config.calendar.calendar_id != "primary":
        return Check(name, "warn", "focus time exists only on the primary calendar", fallback)
    domain = summary.rpartition("@")[2].lower() if "@" in summary else ""
    if domain in CONSUMER_DOMAINS:
        return Check(
            name,
            "warn",
            f"{summary} is a personal Google account: it has no focus time",
            "use a Workspace account " + fallback,
        )
    if domain:
        return Check(
            name,
            "unknown",
            f"{domain} looks like a Workspace account: focus time works if your admin allows it",
        )
    return Check(name, "unknown", "could not tell which kind of account this calendar is")


def signature_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    problem, body = _read(
        "signature.works",
        settings,
        "gmail",
        GMAIL_SETTINGS_BASIC,
        lambda service: service.users().settings().sendAs().list(userId="me"),
    )
    if problem is not None:
        yield problem
        return
    yield ok("signature.works", "Gmail settings are readable")
    addresses = {str(a.get("sendAsEmail", "")).lower(): a for a in body.get("sendAs") or []}
    wanted = config.signature.send_as
    if wanted is None:
        primary = next((e for e, a in addresses.items() if a.get("isPrimary")), "")
        yield ok("signature.send_as", f"primary address {primary or '(unknown)'}")
    elif wanted.lower() in addresses:
        yield ok("signature.send_as", f"send-as address {wanted} exists")
    else:
        have = ", ".join(sorted(addresses)) or "none"
        yield fail(
            "signature.send_as",
            f"send-as address {wanted} is not one of your Gmail addresses ({have})",
            "fix [signature] send_as, or add it in Gmail → Settings → Accounts",
        )


def note_checks(settings: Settings, config: ThemeConfig) -> Iterator[Check]:
    problem, body = _read(
        "note.works",
        settings,
        "gmail",
        GMAIL_COMPOSE,
        lambda service: service.users().getProfile(userId="me"),
    )
    yield problem or ok("note.works", f"Gmail mailbox {body.get('emailAddress', '')} reachable")
