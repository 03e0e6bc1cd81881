"""A sandbox with every service, seeded with a believable person (for rehearse and `sandbox`)."""

from __future__ import annotations

from collections.abc import Callable

from aligner.sandbox.http import Service
from aligner.sandbox.server import Clock, Sandbox
from aligner.sandbox.slack import SlackService

SLACK_TOKEN = "xoxp-sandbox-user-token"
GOOGLE_TOKEN = "ya29.sandbox-access-token"
USER_ID = "U0ALIGNER"

# Each entry builds one service on the shared clock and seeds it. Surfaces' issues add theirs.
SERVICE_FACTORIES: list[Callable[[Clock], Service]] = []


def _slack(clock: Clock) -> Service:
    slack = SlackService(clock=clock)
    slack.add_user(SLACK_TOKEN, USER_ID, "alex")
    slack.set_status(USER_ID, "Working from home", ":house_with_garden:")
    return slack


SERVICE_FACTORIES.append(_slack)


def seeded_sandbox(port: int = 0, clock: Clock | None = None) -> Sandbox:
    clock = clock or Clock()
    return Sandbox([factory(clock) for factory in SERVICE_FACTORIES], port=port, clock=clock)


def SANDBOX_ENV(url: str) -> dict[str, str]:  # noqa: N802 - reads like a constant table
    """The environment that points aligner at a sandbox served at `url`."""
    return {
        "ALIGNER_SLACK_API_URL": f"{url}api/",
        "ALIGNER_SLACK_TOKEN": SLACK_TOKEN,
        "ALIGNER_GOOGLE_API_ROOT": url,
        "ALIGNER_GOOGLE_ACCESS_TOKEN": GOOGLE_TOKEN,
    }
