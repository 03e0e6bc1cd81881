"""Contract tests: the behaviours aligner relies on, checked against a *target*.

A target is either the in-process sandbox (always; the default run and CI) or the real service
(only with ALIGNER_LIVE=1 plus real credentials; `pytest -m live` selects just those). The same
test function runs against both: the `google` and `slack` fixtures are parametrised over the two
targets, and the live parameter carries `pytest.mark.live`. Where a behaviour holds on both
targets, the sandbox's emulation of it is trustworthy. The `graph` fixture does the same for
Microsoft Graph (live: ALIGNER_MICROSOFT_ACCESS_TOKEN, a delegated token of a work or school test
account with Presence.ReadWrite, Calendars.ReadWrite and Mail.ReadWrite; ALIGNER_GRAPH_API_URL
for a national cloud).

Every call goes through the clients aligner itself uses:
`aligner.vendors.google.client.build_service` / `execute`,
`aligner.vendors.slack.client.slack_client` and `aligner.vendors.microsoft.graph.Graph`.

Live runs create only what they delete again. Everything they create is recognisable (calendar
events carry the private extended property CONTRACT_PROP, Outlook events the contract-only
single-value extended property GRAPH_CONTRACT_PROP, drafts and statuses the text CONTRACT_TEXT,
the original signature and statuses are kept in a backup file until restored), and a
session-wide sweep at the start of each live run removes what a failed run left behind.

The live credentials are read from the environment as it was when pytest started: the suite's
autouse fixture clears every ALIGNER_* variable for each test.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from platformdirs import user_cache_path

from aligner.sandbox.google.common import GOOGLE_TOKEN
from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SLACK_TOKEN
from aligner.vendors.google.errors import GoogleStatus
from aligner.vendors.google.scopes import CALENDAR_EVENTS, GMAIL_COMPOSE, GMAIL_SETTINGS_BASIC
from aligner.vendors.google.settings import GoogleSettings
from aligner.vendors.microsoft.errors import GraphRefused
from aligner.vendors.microsoft.graph import Graph
from aligner.vendors.microsoft.settings import DEFAULT_GRAPH_URL, MicrosoftSettings
from aligner.vendors.slack.settings import SlackSettings

# The environment before tests/conftest.py's autouse fixture empties it, test by test.
STARTUP_ENV = {
    k: v for k, v in os.environ.items() if k.startswith("ALIGNER_") or k.lower().endswith("_proxy")
}
LIVE_FLAG = "ALIGNER_LIVE"
GOOGLE_VARIABLES = ("ALIGNER_GOOGLE_ACCESS_TOKEN", "ALIGNER_GOOGLE_CREDENTIALS")
SLACK_VARIABLE = "ALIGNER_SLACK_TOKEN"
GRAPH_VARIABLE = "ALIGNER_MICROSOFT_ACCESS_TOKEN"
SURFACE = "contract"  # the label execute() puts on errors
GOOGLE_SCOPES = (CALENDAR_EVENTS, GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE)
# How a live run recognises what it created (and a later run cleans up).
CONTRACT_PROP = "contractCheck"
CONTRACT_TEXT = "contract-check"
ID_PREFIX = "contract"  # base32hex: a–v and 0–9 only
RUN = secrets.token_hex(4)
# Outlook events' marks: string named properties in a property set of the contract tests' own
# (never aligner's: a real aligner run must not take a contract event for one of its blocks).
GRAPH_PROPERTY_SET = "{a4233f63-5131-4570-b24d-9fa22bd691a8}"
GRAPH_CONTRACT_PROP = f"String {GRAPH_PROPERTY_SET} Name contractCheck"
GRAPH_RUN_PROP = f"String {GRAPH_PROPERTY_SET} Name contractRun"
BACKUP_DIR = user_cache_path("aligner-contract")

TARGETS = ["sandbox", pytest.param("live", marks=pytest.mark.live)]


def live_enabled() -> bool:
    return STARTUP_ENV.get(LIVE_FLAG) == "1"


def fresh_event_id() -> str:
    """A client-chosen Calendar id nobody has used (Google never lets a deleted id go)."""
    return ID_PREFIX + secrets.token_hex(10)


# -- targets ------------------------------------------------------------------------------------


@dataclass
class GoogleTarget:
    """Google Calendar and Gmail as aligner talks to them, on one target."""

    name: str
    settings: GoogleSettings
    sandbox: Sandbox | None = None
    _services: dict[str, Any] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.sandbox is None

    def service(self, api: str) -> Any:
        from aligner.vendors.google.client import build_service

        if api not in self._services:
            version = "v3" if api == "calendar" else "v1"
            self._services[api] = build_service(self.settings, api, version, SURFACE, GOOGLE_SCOPES)
        return self._services[api]

    @property
    def events(self) -> Any:
        return self.service("calendar").events()

    @property
    def gmail(self) -> Any:
        return self.service("gmail").users()

    def run(
        self, request: Any, scope: str, *, expect: tuple[int, ...] = (), retry: bool = True
    ) -> Any:
        from aligner.vendors.google.client import execute

        try:
            return execute(request, SURFACE, scope, retry=retry, expect=expect)
        finally:  # as aligner does: httplib2 keeps sockets open otherwise
            for service in self._services.values():
                service.close()

    def status(self, request: Any, scope: str, *expected: int) -> GoogleStatus:
        """The error status Google answers (one of `expected`); fails if the call succeeds."""
        try:
            answer = self.run(request, scope, expect=expected)
        except GoogleStatus as status:
            return status
        raise AssertionError(f"expected HTTP {expected}, got a success: {answer!r}")

    # -- calendar helpers, used by the tests and the sweep --

    def insert(self, body: dict[str, Any], **props: str) -> dict[str, Any]:
        """Insert a timed event marked as the contract tests' own, under a fresh id."""
        private = {CONTRACT_PROP: "1", "contractRun": RUN, **props}
        full = {
            "id": fresh_event_id(),
            "summary": f"{CONTRACT_TEXT} {RUN}",
            "start": {"dateTime": "2030-01-07T10:00:00Z"},
            "end": {"dateTime": "2030-01-07T10:30:00Z"},
            "extendedProperties": {"private": private},
            **body,
        }
        event: dict[str, Any] = self.run(
            self.events.insert(calendarId="primary", body=full, sendUpdates="none"),
            CALENDAR_EVENTS,
        )
        return event

    def delete_quietly(self, event_id: str) -> None:
        with contextlib.suppress(GoogleStatus):
            self.run(
                self.events.delete(calendarId="primary", eventId=event_id, sendUpdates="none"),
                CALENDAR_EVENTS,
                expect=(404, 410),
            )


@dataclass
class SlackTarget:
    """Slack's Web API as aligner talks to it, on one target."""

    name: str
    settings: SlackSettings
    token: str
    sandbox: Sandbox | None = None

    @property
    def live(self) -> bool:
        return self.sandbox is None

    def client(self, token: str | None = None) -> Any:
        from aligner.vendors.slack.client import slack_client

        return slack_client(self.settings, token or self.token)


@dataclass
class GraphTarget:
    """Microsoft Graph as aligner talks to it (`Graph` over httpx), on one target."""

    name: str
    base_url: str
    token: str
    sandbox: Sandbox | None = None
    _clients: list[Graph] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.sandbox is None

    def client(self, token: str | None = None) -> Graph:
        """A Graph client as a surface gets one (closed when the test ends)."""
        made = Graph(self.base_url, self.token if token is None else token, SURFACE)
        self._clients.append(made)
        return made

    def close(self) -> None:
        for made in self._clients:
            made.close()
        self._clients.clear()

    def listed(self, path: str, params: dict[str, str], pages: int = 10) -> list[dict[str, Any]]:
        """Every item of a Graph collection, following `@odata.nextLink` (on the same endpoint)."""
        graph = self.client()
        found: list[dict[str, Any]] = []
        page: dict[str, str] | None = params
        for _ in range(pages):
            body = graph.get(path, page).json()
            found += [item for item in body.get("value") or [] if isinstance(item, dict)]
            link = str(body.get("@odata.nextLink") or "")
            if not link.startswith(self.base_url):
                break
            path, page = link[len(self.base_url) :], None
        return found

    def delete_quietly(self, path: str) -> None:
        with contextlib.suppress(GraphRefused):  # GraphNotFound: already gone
            self.client().delete(path)


# -- backups of what a live run changes in place (signature, status) -----------------------------


def backup_path(kind: str) -> Path:
    return BACKUP_DIR / f"{kind}.json"


def save_backup(kind: str, value: Any) -> None:
    """Keep the original before a live test changes it (never overwrite an older backup: that
    one holds the real original, from before a failed run)."""
    path = backup_path(kind)
    if path.exists():
        return
    BACKUP_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(json.dumps(value), encoding="utf-8")
    path.chmod(0o600)


def load_backup(kind: str) -> Any:
    path = backup_path(kind)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def drop_backup(kind: str) -> None:
    backup_path(kind).unlink(missing_ok=True)


# -- live sessions, swept once per run -----------------------------------------------------------


def _live_google_settings() -> GoogleSettings:
    values: dict[str, Any] = {}
    if STARTUP_ENV.get("ALIGNER_GOOGLE_ACCESS_TOKEN"):
        values["google_access_token"] = STARTUP_ENV["ALIGNER_GOOGLE_ACCESS_TOKEN"]
    if STARTUP_ENV.get("ALIGNER_GOOGLE_CREDENTIALS"):
        values["google_credentials"] = Path(STARTUP_ENV["ALIGNER_GOOGLE_CREDENTIALS"])
    if STARTUP_ENV.get("ALIGNER_GOOGLE_API_ROOT"):
        values["google_api_root"] = STARTUP_ENV["ALIGNER_GOOGLE_API_ROOT"]
    return GoogleSettings(**values)


def _skip_unless_live(*variables: str) -> None:
    if not live_enabled():
        pytest.skip(f"live target: set {LIVE_FLAG}=1 (and {' or '.join(variables)})")
    if not any(STARTUP_ENV.get(v) for v in variables):
        pytest.skip(f"live target: {' or '.join(variables)} is not set")


@pytest.fixture(scope="session")
def live_google() -> Iterator[GoogleTarget]:
    _skip_unless_live(*GOOGLE_VARIABLES)
    target = GoogleTarget("live", _live_google_settings())
    sweep_google(target)
    yield target
    sweep_google(target)


@pytest.fixture(scope="session")
def live_slack() -> Iterator[SlackTarget]:
    _skip_unless_live(SLACK_VARIABLE)
    settings = SlackSettings(
        slack_token=STARTUP_ENV[SLACK_VARIABLE],
        slack_api_url=STARTUP_ENV.get("ALIGNER_SLACK_API_URL", "https://slack.com/api/"),
    )
    target = SlackTarget("live", settings, STARTUP_ENV[SLACK_VARIABLE])
    sweep_slack(target)
    yield target
    sweep_slack(target)


@pytest.fixture(scope="session")
def live_graph() -> Iterator[GraphTarget]:
    _skip_unless_live(GRAPH_VARIABLE)
    settings = MicrosoftSettings(
        graph_api_url=STARTUP_ENV.get("ALIGNER_GRAPH_API_URL", DEFAULT_GRAPH_URL)
    )
    target = GraphTarget("live", settings.graph_api_url, STARTUP_ENV[GRAPH_VARIABLE])
    with pytest.MonkeyPatch.context() as patch:
        _restore_proxies(patch)
        sweep_graph(target)
    yield target
    with pytest.MonkeyPatch.context() as patch:
        _restore_proxies(patch)
        sweep_graph(target)


def sweep_google(target: GoogleTarget) -> None:
    """Remove what an earlier (failed) live run left: marked events, marked drafts, a signature
    still changed (restored from its backup)."""
    found = target.run(
        target.events.list(
            calendarId="primary",
            privateExtendedProperty=[f"{CONTRACT_PROP}=1"],
            maxResults=2500,
        ),
        CALENDAR_EVENTS,
    )
    for event in found.get("items") or []:
        target.delete_quietly(str(event["id"]))
    drafts = target.run(
        target.gmail.drafts().list(userId="me", q=f"subject:{CONTRACT_TEXT}"), GMAIL_COMPOSE
    )
    for draft in drafts.get("drafts") or []:
        with contextlib.suppress(GoogleStatus):
            target.run(
                target.gmail.drafts().delete(userId="me", id=draft["id"]),
                GMAIL_COMPOSE,
                expect=(404,),
            )
    original = load_backup("signature")
    if original is not None:
        target.run(
            target.gmail.settings()
            .sendAs()
            .patch(
                userId="me",
                sendAsEmail=original["sendAsEmail"],
                body={"signature": original["signature"]},
            ),
            GMAIL_SETTINGS_BASIC,
        )
        drop_backup("signature")


def sweep_slack(target: SlackTarget) -> None:
    """Put back the status a failed live run left changed (from its backup)."""
    original = load_backup("slack-status")
    if original is None:
        return
    target.client().users_profile_set(profile=original)
    drop_backup("slack-status")


def graph_item(kind: str, item_id: str) -> str:
    """An item's path ("me/events/{id}"); Graph ids are base64 and may need escaping."""
    return f"me/{kind}/{quote(item_id, safe='')}"


def sweep_graph(target: GraphTarget) -> None:
    """Remove what an earlier (failed) live run left: events carrying GRAPH_CONTRACT_PROP,
    drafts (and their deleted copies) whose subject starts with CONTRACT_TEXT, and a Teams
    status message still changed (restored from its backup)."""
    from aligner.surfaces.calendar.outlook_api import mark_filter
    from aligner.surfaces.teams_status.surface import request_body

    try:
        events = target.listed(
            "me/events",
            {"$filter": mark_filter(GRAPH_CONTRACT_PROP, "1"), "$select": "id", "$top": "100"},
        )
        for event in events:
            target.delete_quietly(graph_item("events", str(event["id"])))
        for folder in ("drafts", "deleteditems"):
            found = target.listed(
                f"me/mailFolders/{folder}/messages", {"$select": "id,subject", "$top": "100"}
            )
            for message in found:
                if not str(message.get("subject") or "").startswith(CONTRACT_TEXT):
                    continue
                path = graph_item("messages", str(message["id"]))
                if folder == "drafts":
                    target.delete_quietly(path)
                else:  # https://learn.microsoft.com/en-us/graph/api/message-permanentdelete
                    with contextlib.suppress(GraphRefused):
                        target.client().post(f"{path}/permanentDelete")
        original = load_backup("teams-status")
        if original is not None:
            target.client().post("me/presence/setStatusMessage", request_body(original))
            drop_backup("teams-status")
    finally:
        target.close()


# -- the parametrised targets --------------------------------------------------------------------


@pytest.fixture(params=TARGETS)
def google(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> GoogleTarget:
    if request.param == "live":
        target: GoogleTarget = request.getfixturevalue("live_google")
        _restore_proxies(monkeypatch)
        return target
    sandbox: Sandbox = request.getfixturevalue("sandbox")
    settings = GoogleSettings(google_access_token=GOOGLE_TOKEN, google_api_root=sandbox.url)
    return GoogleTarget("sandbox", settings, sandbox)


@pytest.fixture(params=TARGETS)
def slack(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> SlackTarget:
    if request.param == "live":
        target: SlackTarget = request.getfixturevalue("live_slack")
        _restore_proxies(monkeypatch)
        return target
    sandbox: Sandbox = request.getfixturevalue("sandbox")
    settings = SlackSettings(slack_token=SLACK_TOKEN, slack_api_url=f"{sandbox.url}api/")
    return SlackTarget("sandbox", settings, SLACK_TOKEN, sandbox)


@pytest.fixture(params=TARGETS)
def graph(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphTarget]:
    if request.param == "live":
        live: GraphTarget = request.getfixturevalue("live_graph")
        _restore_proxies(monkeypatch)
        target = GraphTarget("live", live.base_url, live.token)
    else:
        sandbox: Sandbox = request.getfixturevalue("sandbox")
        target = GraphTarget("sandbox", f"{sandbox.url}graph/v1.0/", GRAPH_TOKEN, sandbox)
    yield target
    target.close()


def _restore_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A live run reaches the real services the way the machine does (its proxy, if any)."""
    for name, value in STARTUP_ENV.items():
        if name.lower().endswith("_proxy"):
            monkeypatch.setenv(name, value)


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], Any]], None]]:
    """Register undo steps; they run (last first) even when the test fails."""
    steps: list[Callable[[], Any]] = []
    yield steps.append
    for step in reversed(steps):
        with contextlib.suppress(Exception):
            step()
