"""A sandbox with every service, seeded with a believable person (for rehearse and `sandbox`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aligner.sandbox.google.calendar.service import seeded_calendar
from aligner.sandbox.google.common import GoogleAccounts, TokenEndpoint
from aligner.sandbox.google.gmail.mail import seeded_mailbox
from aligner.sandbox.google.gmail.settings import seeded_send_as
from aligner.sandbox.http import Service
from aligner.sandbox.server import Clock, Sandbox
from aligner.sandbox.slack.service import SlackService
from aligner.vendors.google.client import CALENDAR_EVENTS, GMAIL_COMPOSE, GMAIL_SETTINGS_BASIC

SLACK_TOKEN = "xoxp-sandbox-user-token"
GOOGLE_TOKEN = "ya29.sandbox-access-token"
GOOGLE_REFRESH_TOKEN = "1//sandbox-refresh-token"
USER_ID = "U0ALIGNER"
EMAIL = "alex@example.com"
GOOGLE_SCOPES = (CALENDAR_EVENTS, GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE)


@dataclass(frozen=True)
class Shared:
    """What the fake services share: one clock and one set of Google accounts."""

    clock: Clock
    google: GoogleAccounts = field(default_factory=GoogleAccounts)


def _slack(shared: Shared) -> Service:
    slack = SlackService(clock=shared.clock)
    slack.add_user(SLACK_TOKEN, USER_ID, "alex")
    slack.set_status(USER_ID, "Working from home", ":house_with_garden:")
    return slack


def _oauth(shared: Shared) -> Service:
    shared.google.grant(GOOGLE_TOKEN, *GOOGLE_SCOPES)
    shared.google.refresh_tokens[GOOGLE_REFRESH_TOKEN] = set(GOOGLE_SCOPES)
    return TokenEndpoint(accounts=shared.google)


def _gmail_settings(shared: Shared) -> Service:
    return seeded_send_as(shared.google, EMAIL)


def _gmail_mail(shared: Shared) -> Service:
    return seeded_mailbox(shared.google, shared.clock, EMAIL)


def _calendar(shared: Shared) -> Service:
    return seeded_calendar(shared.google, shared.clock, EMAIL)


# Each entry builds one seeded service. Each surface's module adds its own here.
SERVICE_FACTORIES: list[Callable[[Shared], Service]] = [
    _slack,
    _oauth,
    _gmail_settings,
    _gmail_mail,
    _calendar,
]


def seeded_sandbox(port: int = 0, clock: Clock | None = None) -> Sandbox:
    shared = Shared(clock or Clock())
    return Sandbox(
        [factory(shared) for factory in SERVICE_FACTORIES], port=port, clock=shared.clock
    )


def SANDBOX_ENV(url: str) -> dict[str, str]:
    """The environment that points aligner at a sandbox served at `url`."""
    return {
        "ALIGNER_SLACK_API_URL": f"{url}api/",
        "ALIGNER_SLACK_TOKEN": SLACK_TOKEN,
        "ALIGNER_GOOGLE_API_ROOT": url,
        "ALIGNER_GOOGLE_ACCESS_TOKEN": GOOGLE_TOKEN,
    }
