"""Calendar blocks across theme and state changes: disabling, moving calendars, lost state."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BEFORE, Aligner
from tests.surfaces.calendar.test_calendar_surface import (
    BETWEEN,
    BLOCKS,
    blocks,
    calendar_theme,
    events,
    writes,
)


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    return calendar_theme(tmp_path / "theme.toml")


def test_disabling_the_calendar_gives_back_the_blocks_not_yet_started(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    started = blocks(sandbox)["data-refresh"]["id"]
    theme.write_text(
        theme.read_text().replace("[calendar]\nenabled = true", "[calendar]\nenabled = false")
    )
    sandbox.clear_log()
    result = aligner("apply", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert sorted(op for op, _ in writes(sandbox)) == ["delete", "delete"]
    assert set(blocks(sandbox)) == {"data-refresh"}
    assert blocks(sandbox)["data-refresh"]["id"] == started
    sandbox.clear_log()
    assert aligner("apply", now=BETWEEN).exit_code == 0
    assert sandbox.requests("calendar") == []  # nothing owned any more: not even read


def test_after_the_window_every_block_is_history(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("stays on the calendar as it is") == 3
    assert len(blocks(sandbox)) == 3
    sandbox.clear_log()
    assert aligner("revert", now=AFTER).exit_code == 0
    assert writes(sandbox) == []


def test_moving_to_another_calendar_leaves_the_old_blocks_and_creates_new_ones(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    team = "c0team@group.calendar.google.com"
    theme.write_text(
        theme.read_text().replace("[calendar]\n", f'[calendar]\ncalendar_id = "{team}"\n')
    )
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert "calendar_id changed" in result.stdout
    moved = sandbox.service("calendar").events(team)
    assert len(moved) == 3
    assert {e["eventType"] for e in moved} == {"default"}  # no focus time off the primary
    assert len(blocks(sandbox)) == 3  # the old ones stay where they were
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert writes(sandbox) == [], again.output
    assert "calendar_id changed" not in again.stdout


def test_lost_state_adopts_the_blocks_without_writing(
    aligner: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.clear_log()
    fresh = Aligner(
        {**aligner.env, "ALIGNER_STATE_DIR": str(tmp_path / "new-state")}, aligner.config, sandbox
    )
    result = fresh("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("adopt") == 3
    assert writes(sandbox) == []
    assert "0 changes applied" in result.stdout  # bookkeeping, not writes
    assert fresh("plan", "--detailed-exitcode", now=BEFORE).exit_code == 0
    assert len(events(sandbox, deleted=True)) == 4  # three blocks and the standup
    assert fresh("revert", now=BEFORE).exit_code == 0
    assert blocks(sandbox) == {}


def test_a_new_theme_id_keeps_the_same_events(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    ids = {k: e["id"] for k, e in blocks(sandbox).items()}
    theme.write_text(theme.read_text().replace('id = "inference"', 'id = "inference-v2"'))
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == []
    assert {k: e["id"] for k, e in blocks(sandbox).items()} == ids


def test_a_block_brought_back_then_deleted_by_a_person_is_theirs(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    full = theme.read_text()
    assert aligner("apply", now=BEFORE).exit_code == 0
    calendar_theme(theme, blocks={})  # aligner deletes every block
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(full)  # and brings them back
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.service("calendar").delete_event(blocks(sandbox)["mock"]["id"])
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert "conflict mock: deleted by hand" in result.stdout
    assert writes(sandbox) == []


def test_the_google_token_never_reaches_output_or_state(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    token = aligner.env["ALIGNER_GOOGLE_ACCESS_TOKEN"]
    runs = [aligner(cmd, now=BEFORE) for cmd in ("plan", "apply", "status", "revert")]
    sandbox.service("calendar").set_account(workspace=False)
    runs.append(aligner("apply", now=BEFORE))
    assert all(token not in r.output for r in runs)
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes()


def test_what_google_makes_of_a_block_is_not_fought(aligner: Aligner, sandbox: Sandbox) -> None:
    """Google may store a block in its own form (here: a shortened decline message)."""
    assert aligner("apply", now=BEFORE).exit_code == 0
    calendar = sandbox.service("calendar")
    for event in calendar._calendar("primary").events.values():  # as stored, same etag
        if "focusTimeProperties" in event:
            event["focusTimeProperties"]["declineMessage"] = "Heads-down"
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


@pytest.fixture
def sparse(sandbox: Sandbox) -> None:
    """Google only promises a deleted event's id: no properties, so list filters miss it."""
    sandbox.service("calendar").sparse_tombstones = True


@pytest.mark.usefixtures("sparse")
def test_with_bare_tombstones_a_block_added_back_is_revived_not_duplicated(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    full = theme.read_text()
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock_id = blocks(sandbox)["mock"]["id"]
    calendar_theme(theme, blocks={})
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(full)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert blocks(sandbox)["mock"]["id"] == mock_id
    assert len(events(sandbox, deleted=True)) == 4
    assert [r.status for r in sandbox.requests("calendar", "calendar.events.insert")] == [409] * 3


@pytest.mark.usefixtures("sparse")
def test_with_bare_tombstones_a_block_a_person_deleted_is_still_theirs(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.service("calendar").delete_event(blocks(sandbox)["mock"]["id"])
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert "conflict mock: deleted by hand" in result.stdout
    assert writes(sandbox) == []
    assert aligner("revert", now=BEFORE).exit_code == 0
    assert blocks(sandbox) == {}


@pytest.mark.parametrize("operation", ["delete", "patch"])
def test_a_dropped_answer_to_a_delete_or_update_converges(
    aligner: Aligner, sandbox: Sandbox, theme: Path, operation: str
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    if operation == "delete":
        calendar_theme(theme, blocks={k: v for k, v in BLOCKS.items() if k != "mock"})
    else:
        theme.write_text(theme.read_text().replace('duration = "90m"', 'duration = "2h"'))
    sandbox.inject(f"calendar.events.{operation}", "drop")
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == [] and "conflict" not in again.stdout
