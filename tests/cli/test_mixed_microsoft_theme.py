"""One theme across vendors: Slack status, Teams status, Outlook calendar and Gmail signature.

Surfaces know nothing of each other, so a theme may take each from a different vendor: every
surface reads and writes only its own service, a converged run writes nothing anywhere, and
after the window everything is given back and later runs call nothing at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BEFORE, DURING, REPO, SLACK_SECTION, Aligner, write_theme

MIXED = """
[teams]
enabled = true
message = "{{ theme.name }}: {{ metrics.latency | change }}"

[calendar]
enabled = true
provider = "microsoft"

[[calendar.blocks]]
id = "rehearsal"
title = "Narrative rehearsal"
start = "-21h"
duration = "90m"

[signature]
enabled = true
mode = "append"
html = "<div>{{ theme.name }} · {{ metrics.latency | change }}</div>"
"""
LATER = "2026-12-04T08:00:00Z"


def writes(sandbox: Sandbox) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for request in sandbox.requests(writes=True):
        found.setdefault(request.service, []).append(request.operation)
    return found


def test_slack_teams_outlook_calendar_and_gmail_signature_tell_one_story(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    theme = write_theme(tmp_path / "mixed.toml", SLACK_SECTION, MIXED)
    aligner = Aligner(env, theme, sandbox)
    assert aligner("validate").exit_code == 0

    before = aligner("apply", now=BEFORE)
    assert before.exit_code == 0, before.output
    assert writes(sandbox) == {"graph": ["events.create"]}  # only the block is due before
    assert sandbox.requests("calendar") == []  # the Google calendar is never asked

    sandbox.clear_log()
    during = aligner("apply", now=DURING)
    assert during.exit_code == 0, during.output
    assert writes(sandbox) == {
        "slack": ["users.profile.set"],
        "graph": ["presence.setStatusMessage"],
        "gmail.settings": ["gmail.sendAs.patch"],
    }
    state = sandbox.state()
    story = "Optimizing inference pipelines: 28 ms → 19 ms (−32%)"
    assert state["graph"]["presence"]["statusMessage"]["content"] == story
    events = state["graph"]["outlook_calendar"]["events"]  # every Graph resource shows
    (block,) = [e for e in events if e["subject"] == "Narrative rehearsal"]
    assert (block["showAs"], block["sensitivity"]) == ("busy", "private")

    sandbox.clear_log()
    again = aligner("apply", now=DURING)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == {}  # converged everywhere

    sandbox.clear_log()
    after = aligner("apply", now=AFTER)
    assert after.exit_code == 0, after.output
    given_back = writes(sandbox)
    assert given_back["graph"] == ["presence.setStatusMessage"]
    assert given_back["gmail.settings"] == ["gmail.sendAs.patch"]
    assert "events.delete" not in given_back["graph"]  # a block that took place stays

    sandbox.clear_log()
    assert aligner("apply", now=LATER).exit_code == 0
    assert sandbox.requests() == []  # all given back: no call, no token refresh


def test_the_microsoft_example_theme_rehearses_every_surface(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    example = REPO / "config" / "example-microsoft.toml"
    aligner = Aligner(env, example, sandbox)
    assert aligner("validate").exit_code == 0
    result = aligner("rehearse")
    assert result.exit_code == 0, result.output
    for title in ("Slack status", "Teams status", "Outlook calendar blocks", "Gmail signature"):
        assert title in result.output
    assert "drafted in Outlook" in result.output


def test_doctor_checks_the_microsoft_account_and_each_microsoft_surface(
    env: dict[str, str], sandbox: Sandbox
) -> None:
    example = REPO / "config" / "example-microsoft.toml"
    result = Aligner(env, example, sandbox)("doctor")
    assert result.exit_code == 0, result.output
    for line in (
        "✓ microsoft.works: access token for alex@example.com",
        "✓ microsoft.scopes: grant has Calendars.ReadWrite, Mail.ReadWrite, Presence.ReadWrite",
        "? microsoft.signatures: Outlook signatures cannot be themed",
        "✓ calendar.works: Outlook calendar",
        "✓ note.works: Outlook mailbox reachable",
        "✓ teams.presence:",
    ):
        assert line in result.output


@pytest.mark.parametrize(
    ("section", "line"),
    [
        (
            '\n[calendar]\nenabled = true\nprovider = "outlook"\n',
            'calendar.provider: "outlook" is not a calendar provider: write provider = "microsoft"',
        ),
        (
            '\n[note]\nenabled = true\nprovider = "microsoft"\n',
            'note.provider: "microsoft" is not a note provider: write provider = "outlook"',
        ),
    ],
    ids=["calendar", "note"],
)
def test_a_vendors_other_name_as_provider_names_the_right_value(
    env: dict[str, str], tmp_path: Path, section: str, line: str
) -> None:
    theme = write_theme(tmp_path / "theme.toml", section)
    result = Aligner(env, theme)("validate")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [line]
