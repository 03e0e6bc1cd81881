"""Outlook calendar blocks end to end: the real CLI and Graph client (httpx) against the sandbox.

The same rules as the Google calendar (tests/surfaces/calendar): created once before they start,
started blocks left alone, hand edits win, given back after; only the wire is Graph's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.core.accounts import recorded
from aligner.sandbox.server import Sandbox
from aligner.state.store import Store
from aligner.surfaces.calendar.events import block_token
from aligner.surfaces.calendar.outlook_events import KEY_ID, MARK_ID, MARK_VALUE
from tests.conftest import BEFORE, Aligner, flat
from tests.surfaces.calendar.test_calendar_surface import BETWEEN, BLOCKS, STARTS
from tests.surfaces.calendar_microsoft.conftest import (
    blocks,
    calls,
    outlook,
    prop,
    sent,
    utc,
)


def test_first_apply_creates_each_block_once_as_a_private_busy_event(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    found = blocks(sandbox)
    assert set(found) == set(BLOCKS)
    for key, (start, end) in STARTS.items():
        event = found[key]
        assert (utc(event["start"]), utc(event["end"])) == (start, end)
        assert event["showAs"] == "busy"
        assert event["sensitivity"] == "private"
        assert event["attendees"] == []
        assert prop(event, MARK_ID) == MARK_VALUE
        assert prop(event, KEY_ID) == block_token("inference", key)
    assert found["data-refresh"]["body"] == {
        "contentType": "text",
        "content": "Re-check 28 ms → 19 ms (−32%)",
    }
    creates = [r for r in calls(sandbox, writes=True)]
    assert [r.operation for r in creates] == ["events.create"] * 3
    assert all(r.path == "/graph/v1.0/me/calendar/events" for r in creates)
    bodies = [sent(r) for r in creates]
    assert len({b["transactionId"] for b in bodies}) == 3  # one per block
    for body in bodies:
        assert body["showAs"] == "busy" and body["sensitivity"] == "private"
        assert {p["id"] for p in body["singleValueExtendedProperties"]} == {MARK_ID, KEY_ID}
        assert "aligner" not in str(body).lower()  # nothing on the calendar names aligner
    assert "Team standup" in [e["subject"] for e in outlook(sandbox).all_events()]


def test_plan_shows_outlook_blocks_and_writes_nothing(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("plan", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert "Outlook calendar blocks" in result.stdout
    assert "Google" not in result.stdout and "focus time" not in result.stdout
    text = flat(result.stdout)
    assert "busy block “Data refresh” Wed 02 Dec 10:00–12:00 PST = 18:00–20:00 UTC" in text
    assert calls(sandbox, writes=True) == []
    assert [r.operation for r in calls(sandbox)] == ["events.list"]


def test_second_apply_makes_zero_writes_and_one_read(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert calls(sandbox, writes=True) == []
    assert [r.operation for r in calls(sandbox)] == ["events.list"]
    assert "nothing to do" in result.stdout
    assert aligner("plan", "--detailed-exitcode", now=BEFORE).exit_code == 0


def test_past_blocks_are_left_alone(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("apply", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert set(blocks(sandbox)) == {"rehearsal", "mock"}  # data-refresh had already started


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_fail_fast_in_one_line(aligner: Aligner, sandbox: Sandbox, status: int) -> None:
    token = "eyJ.not-a-graph-token" if status == 401 else "eyJ.presence-only"
    if status == 403:
        outlook(sandbox).directory.grant(token, "Presence.ReadWrite")
    result = aligner("apply", now=BEFORE, ALIGNER_MICROSOFT_ACCESS_TOKEN=token)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and token not in result.output
    code = "InvalidAuthenticationToken" if status == 401 else "ErrorAccessDenied"
    lines = [line for line in result.output.splitlines() if code in line]
    assert len(lines) == 1, result.output
    assert "aligner auth microsoft" in flat(result.output)
    assert len(calls(sandbox)) == 1  # failed fast: no retry, no write


def test_no_microsoft_credentials_is_one_line_and_no_call(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    env = {k: v for k, v in aligner.env.items() if k != "ALIGNER_MICROSOFT_ACCESS_TOKEN"}
    result = Aligner(env, aligner.config, sandbox)("apply", now=BEFORE)
    assert result.exit_code == 1
    assert "no Microsoft credentials: run `aligner auth microsoft`" in flat(result.output)
    assert "Traceback" not in result.output
    assert calls(sandbox) == []


def test_the_account_is_the_calendars_owner_read_without_an_extra_call(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0  # no block to tell yet: not recorded
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert [r.operation for r in calls(sandbox)] == ["events.list"]
    with Store(state_dir / "state.db", readonly=True) as store:
        assert recorded(store, "calendar") == "alex@example.com"
