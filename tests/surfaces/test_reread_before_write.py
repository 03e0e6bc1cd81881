"""Slack, Gmail and Teams have no conditional writes: a write relies only on a recent read.

When the plan's read answered just before the write (within `REREAD_AFTER`, the usual `apply`),
the write relies on it: a re-read would add a round trip and close nothing. When the read is
older (the run was kept waiting), aligner reads again right before the write, and a person's
edit that landed in between is left alone: the run fails for that surface with one line,
nothing is written, and the next run sees the edit. Tests move the stopped clock of
`aligner.surfaces.reread` (tests/conftest.py `read_clock`) to make a read old; the edit is
injected by a test double around the fake service, right after the plan's read (the first read
of the run), before the re-read. An edit landing within one round trip of the write is the race
that remains (documented in `aligner.surfaces.reread` and the README).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.google.common import EMAIL
from aligner.sandbox.google.gmail.settings import GmailSettingsService
from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, DURING, USER_ID, Aligner, ReadClock, flat, write_theme
from tests.surfaces.signature.test_signature_surface import signature_section

LUNCH = {"status_text": "Lunch", "status_emoji": ":coffee:", "status_expiration": 0}


def edit_after_first(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    operation: str,
    edit: Callable[[], Any],
    read_clock: ReadClock,
) -> None:
    """Right after the first `operation` is answered (the plan's read), a person edits, and the
    run is slow to write (its read is no longer fresh)."""
    read_clock.slow()
    fake = sandbox.service(service)
    original = fake.handle
    seen: list[Request] = []

    def handle(request: Request, routed: Routed) -> Response:
        response: Response = original(request, routed)
        if routed.operation == operation:
            seen.append(request)
            if len(seen) == 1:
                edit()
        return response

    monkeypatch.setattr(fake, "handle", handle)


def operations(sandbox: Sandbox, service: str) -> list[str]:
    return [r.operation for r in sandbox.requests(service)]


# -- Slack ---------------------------------------------------------------------------------------


def lunch(sandbox: Sandbox) -> Callable[[], None]:
    return lambda: sandbox.service("slack").set_status(USER_ID, "Lunch", ":coffee:")


def test_slack_writes_on_a_fresh_read_without_reading_again(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0
    assert sorted(operations(sandbox, "slack")[:2]) == [
        "auth.test",  # whose status it is: asked alongside the read, as the run will write
        "users.profile.get",  # the plan's read, answered just now: the write relies on it
    ]
    assert operations(sandbox, "slack")[2:] == ["users.profile.set"]


def test_slack_reads_again_right_before_it_writes_when_its_read_is_old(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, read_clock: ReadClock
) -> None:
    edit_after_first(sandbox, monkeypatch, "slack", "users.profile.get", lambda: None, read_clock)
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0
    assert operations(sandbox, "slack")[2:] == [
        "users.profile.get",  # the re-read right before the write
        "users.profile.set",
    ]


def test_the_slack_account_is_asked_while_the_read_is_under_way(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read is held (before the sandbox's lock) until auth.test arrives: asked one after
    the other, it would arrive only after the read was answered."""
    fake = sandbox.service("slack")
    original = fake.route
    asked = threading.Event()
    read_waited: list[bool] = []

    def route(request: Request) -> Routed | None:
        routed: Routed | None = original(request)
        if routed is not None and routed.operation == "auth.test":
            asked.set()
        elif routed is not None and routed.operation == "users.profile.get" and not read_waited:
            read_waited.append(asked.wait(timeout=5))
        return routed

    monkeypatch.setattr(fake, "route", route)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert read_waited == [True]  # auth.test came while the read was still unanswered
    assert sorted(operations(sandbox, "slack")) == [
        "auth.test",
        "users.profile.get",
        "users.profile.set",
    ]


def test_a_slack_edit_between_read_and_restore_is_not_overwritten(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, read_clock: ReadClock
) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    edit_after_first(sandbox, monkeypatch, "slack", "users.profile.get", lunch(sandbox), read_clock)
    sandbox.clear_log()

    result = aligner("apply", now=AFTER)

    assert result.exit_code == 1, result.output
    assert (
        "your Slack status changed since aligner read it in this run (someone edited it); "
        "left as it is — the next plan shows the conflict"
    ) in flat(result.output)
    assert "Traceback" not in flat(result.output)
    assert sandbox.requests("slack", "users.profile.set") == []
    assert sandbox.service("slack").status(USER_ID) == LUNCH

    plan = aligner("plan", now=AFTER)
    assert "changed by hand" in flat(plan.stdout)
    sandbox.clear_log()
    assert aligner("apply", now=AFTER).exit_code == 0
    assert sandbox.requests("slack", "users.profile.set") == []  # humans win
    assert sandbox.service("slack").status(USER_ID) == LUNCH


def test_a_slack_edit_before_the_first_write_becomes_the_original(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, read_clock: ReadClock
) -> None:
    """Nothing of aligner's was there yet: the next run themes the status and, after the
    window, gives back the status the person set, not the one the failed run read."""
    edit_after_first(sandbox, monkeypatch, "slack", "users.profile.get", lunch(sandbox), read_clock)

    result = aligner("apply", now=DURING)

    assert result.exit_code == 1, result.output
    assert "changed since aligner read it in this run" in flat(result.output)
    assert "the next run reads it again" in flat(result.output)
    assert sandbox.requests("slack", "users.profile.set") == []
    assert sandbox.service("slack").status(USER_ID) == LUNCH

    assert aligner("apply", now=DURING).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] != "Lunch"
    after = aligner("apply", now=AFTER)
    assert after.exit_code == 0, after.output
    assert sandbox.service("slack").status(USER_ID) == LUNCH


# -- Gmail signature -----------------------------------------------------------------------------


@pytest.fixture
def signature(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, write_theme(tmp_path / "theme.toml", signature_section()), sandbox)


@pytest.fixture
def gmail(sandbox: Sandbox) -> GmailSettingsService:
    service: GmailSettingsService = sandbox.service("gmail.settings")
    return service


MINE = '<div dir="ltr">Alex — new number 555-0100</div>'


def test_gmail_patches_on_a_fresh_read_without_reading_again(
    signature: Aligner, sandbox: Sandbox
) -> None:
    sandbox.clear_log()
    assert signature("apply", now=DURING).exit_code == 0
    assert operations(sandbox, "gmail.settings") == ["gmail.sendAs.list", "gmail.sendAs.patch"]


def test_gmail_reads_the_address_again_right_before_the_patch_when_its_read_is_old(
    signature: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, read_clock: ReadClock
) -> None:
    edit_after_first(
        sandbox, monkeypatch, "gmail.settings", "gmail.sendAs.list", lambda: None, read_clock
    )
    sandbox.clear_log()
    assert signature("apply", now=DURING).exit_code == 0
    assert operations(sandbox, "gmail.settings") == [
        "gmail.sendAs.list",
        "gmail.sendAs.get",
        "gmail.sendAs.patch",
    ]


def test_a_signature_edit_between_read_and_patch_is_not_overwritten(
    signature: Aligner,
    sandbox: Sandbox,
    gmail: GmailSettingsService,
    monkeypatch: pytest.MonkeyPatch,
    read_clock: ReadClock,
) -> None:
    assert signature("apply", now=DURING).exit_code == 0
    edit_after_first(
        sandbox,
        monkeypatch,
        "gmail.settings",
        "gmail.sendAs.list",
        lambda: gmail.set_signature(EMAIL, MINE),
        read_clock,
    )
    sandbox.clear_log()

    result = signature("apply", now=AFTER)

    assert result.exit_code == 1, result.output
    assert (
        f"the signature of {EMAIL} changed in Gmail since aligner read it in this run "
        "(someone edited it); left as it is — the next plan shows the conflict"
    ) in flat(result.output)
    assert "Traceback" not in flat(result.output)
    assert sandbox.requests("gmail.settings", "gmail.sendAs.patch") == []
    assert gmail.signature(EMAIL) == MINE
    sandbox.clear_log()
    again = signature("apply", now=AFTER)
    assert again.exit_code == 0, again.output
    assert "conflict" in flat(again.output)
    assert sandbox.requests("gmail.settings", writes=True) == []
    assert gmail.signature(EMAIL) == MINE


def test_a_signature_edit_before_the_first_patch_becomes_the_original(
    signature: Aligner,
    sandbox: Sandbox,
    gmail: GmailSettingsService,
    monkeypatch: pytest.MonkeyPatch,
    read_clock: ReadClock,
) -> None:
    edit_after_first(
        sandbox,
        monkeypatch,
        "gmail.settings",
        "gmail.sendAs.list",
        lambda: gmail.set_signature(EMAIL, MINE),
        read_clock,
    )
    result = signature("apply", now=DURING)
    assert result.exit_code == 1, result.output
    assert "the next run reads it again" in flat(result.output)
    assert gmail.signature(EMAIL) == MINE

    assert signature("apply", now=DURING).exit_code == 0
    assert gmail.signature(EMAIL) != MINE
    assert signature("apply", now=AFTER).exit_code == 0
    assert gmail.signature(EMAIL) == MINE


# -- Teams ---------------------------------------------------------------------------------------


def test_a_teams_edit_between_read_and_write_is_not_overwritten(
    env: dict[str, str],
    tmp_path: Path,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    read_clock: ReadClock,
) -> None:
    from aligner.sandbox.microsoft.presence import PresenceService

    theme = write_theme(
        tmp_path / "teams.toml",
        '\n[slack]\nenabled = false\n[teams]\nenabled = true\nmessage = "{{ theme.name }}"\n',
    )
    teams = Aligner(env, theme, sandbox)
    presence = next(s for s in sandbox.services if isinstance(s, PresenceService))
    original = presence.handle
    reads: list[Request] = []

    def handle(request: Request, routed: Routed) -> Response:
        response: Response = original(request, routed)
        if routed.operation == "presence.get":
            reads.append(request)
            if len(reads) == 1:  # a person types a message right after the plan's read
                presence.set_message("In a design review")
        return response

    monkeypatch.setattr(presence, "handle", handle)
    read_clock.slow()  # and the run is slow to write
    result = teams("apply", now=DURING)

    assert result.exit_code == 1, result.output
    assert (
        "your Teams status message changed since aligner read it in this run (someone edited "
        "it); left as it is — the next run reads it again"
    ) in flat(result.output)
    assert sandbox.requests("graph", "presence.setStatusMessage") == []
    assert presence.status() == {"content": "In a design review", "expires": None}
