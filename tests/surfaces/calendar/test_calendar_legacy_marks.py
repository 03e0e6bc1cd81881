"""Blocks made by releases that marked events in clear text (`aligner=calendar-block`,
`alignerTheme`, `alignerBlock`) are still found, owned, updated, given back and never duplicated;
a store that holds no such record costs no extra call.

An earlier release's state is simulated faithfully: its events had the same deterministic ids and
only the old private properties, and its records stored the view as it read it then (theme and
block ids in clear text, no "mark").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aligner.core.model import Record
from aligner.sandbox.server import Sandbox
from aligner.state.store import Store
from aligner.surfaces.calendar.events import (
    LEGACY_BLOCK_PROP,
    LEGACY_MARK_NAME,
    LEGACY_MARK_VALUE,
    LEGACY_THEME_PROP,
    MARK_NAME,
    MARK_VALUE,
    view_of,
)
from aligner.surfaces.calendar.surface import legacy_possible
from tests.conftest import AFTER, BEFORE, Aligner
from tests.surfaces.calendar.marks import google_block_key, private
from tests.surfaces.calendar.test_calendar_surface import BLOCKS, blocks, calendar_theme, writes

THEME_KEY = "inference"
LISTS = "calendar.events.list"


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    return calendar_theme(tmp_path / "theme.toml")


def made_by_an_earlier_release(sandbox: Sandbox, state_dir: Path) -> dict[str, str]:
    """Turn the blocks aligner just made into what an earlier release left: old marks on the
    events (same ids, same etags) and records without the neutral mark. Block id → event id."""
    service = sandbox.service("calendar")
    calendar = next(c for c in service.calendars.values() if c.primary)
    ids = {}
    for event in calendar.events.values():
        key = google_block_key(event)
        if key is None:
            continue
        event["extendedProperties"] = {
            "private": {
                LEGACY_MARK_NAME: LEGACY_MARK_VALUE,
                LEGACY_THEME_PROP: THEME_KEY,
                LEGACY_BLOCK_PROP: key,
            }
        }
        ids[key] = event["id"]
    with Store(state_dir / "state.db") as store:
        for key, record in store.records("calendar").items():
            applied = dict(record.applied)  # type: ignore[arg-type]
            applied.pop("mark")
            applied.update(theme=THEME_KEY, block=key)
            store.save_applied("calendar", key, applied, record.state, datetime.now(UTC))
    assert set(ids) == set(BLOCKS)
    return ids


def legacy_events(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [
        e
        for e in sandbox.service("calendar").events(deleted=True)
        if private(e).get(LEGACY_MARK_NAME) == LEGACY_MARK_VALUE
    ]


def lists(sandbox: Sandbox) -> int:
    return len(sandbox.requests("calendar", LISTS))


def test_blocks_of_an_earlier_release_are_found_and_left_as_they_are(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    made_by_an_earlier_release(sandbox, state_dir)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == []
    assert lists(sandbox) == 2  # the neutral mark, and the old one while records may need it
    assert "conflict" not in result.stdout and "adopt" not in result.stdout
    assert aligner("plan", "--detailed-exitcode", now=BEFORE).exit_code == 0
    assert len(legacy_events(sandbox)) == 3
    assert len(sandbox.service("calendar").events(deleted=True)) == 4  # no duplicate


def test_blocks_of_an_earlier_release_are_given_back_then_no_longer_listed(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    ids = made_by_an_earlier_release(sandbox, state_dir)
    sandbox.clear_log()
    result = aligner("revert", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert sorted(writes(sandbox)) == sorted(("delete", i) for i in ids.values())
    assert blocks(sandbox) == {} and all(e["status"] == "cancelled" for e in legacy_events(sandbox))
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0  # a revert in force: nothing is made
    assert lists(sandbox) <= 1  # no record can point at an old event any more


def test_blocks_of_an_earlier_release_become_history_after_the_window(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    made_by_an_earlier_release(sandbox, state_dir)
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("stays on the calendar as it is") == 3
    sandbox.clear_log()
    assert aligner("apply", now=AFTER).exit_code == 0
    assert aligner("revert", now=AFTER).exit_code == 0
    assert writes(sandbox) == []
    assert lists(sandbox) <= 2  # one per run at most: released records need no old list
    assert len(sandbox.service("calendar").events(deleted=True)) == 4


def test_a_block_of_an_earlier_release_is_updated_in_place_with_the_neutral_marks(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    ids = made_by_an_earlier_release(sandbox, state_dir)
    theme.write_text(theme.read_text().replace("Mock session with a peer", "Mock with Sam"))
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("patch", ids["mock"])]
    mock = sandbox.service("calendar").event(ids["mock"])
    assert mock["summary"] == "Mock with Sam"
    assert private(mock)[MARK_NAME] == MARK_VALUE and google_block_key(mock) == "mock"
    assert len(sandbox.service("calendar").events(deleted=True)) == 4
    sandbox.clear_log()
    assert aligner("plan", "--detailed-exitcode", now=BEFORE).exit_code == 0


def test_a_lost_state_beside_blocks_of_an_earlier_release_makes_no_duplicate(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path, tmp_path: Path
) -> None:
    """Without records nothing says an old event may exist, so it is not listed; the block's
    deterministic id still lands on it (409, then read) and nothing is written twice."""
    assert aligner("apply", now=BEFORE).exit_code == 0
    made_by_an_earlier_release(sandbox, state_dir)
    fresh = Aligner(
        {**aligner.env, "ALIGNER_STATE_DIR": str(tmp_path / "new-state")}, aligner.config, sandbox
    )
    sandbox.clear_log()
    result = fresh("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert [op for op, _ in writes(sandbox)] == ["insert"] * 3  # each answered 409: no new event
    assert len(sandbox.service("calendar").events(deleted=True)) == 4
    assert fresh("revert", now=BEFORE).exit_code == 0
    assert blocks(sandbox) == {} and not [
        e for e in legacy_events(sandbox) if e["status"] != "cancelled"
    ]


def test_a_fresh_theme_never_lists_the_old_mark(aligner: Aligner, sandbox: Sandbox) -> None:
    for command, now in (("apply", BEFORE), ("apply", BEFORE), ("plan", BEFORE)):
        sandbox.clear_log()
        assert aligner(command, now=now).exit_code == 0
        assert lists(sandbox) == 1, command
    sandbox.clear_log()
    assert aligner("revert", now=BEFORE).exit_code == 0
    assert lists(sandbox) == 1


def test_view_of_reads_both_marks_as_the_same_opaque_tokens() -> None:
    old = {LEGACY_MARK_NAME: LEGACY_MARK_VALUE, LEGACY_THEME_PROP: "acme", LEGACY_BLOCK_PROP: "b"}
    body = {"id": "x", "start": {}, "end": {}}
    legacy = view_of({**body, "extendedProperties": {"private": old}})
    assert legacy["mark"] == 1 and legacy["theme"] and legacy["block"]
    assert "acme" not in str(legacy["theme"]) + str(legacy["block"])
    assert view_of(body)["block"] is None


def record(applied: Any, state: str = "active", **extra: Any) -> Record:
    return Record("calendar", "k", None, applied, state, extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("records", "possible"),
    [
        ({}, False),  # a fresh theme
        ({"k": record({"id": "x", "mark": 2})}, False),
        ({"k": record({"id": "x", "theme": "t", "block": "k"})}, True),  # an earlier release's
        ({"k": record({"id": "x"}, "released")}, False),  # history: never looked at again
        ({"k": record({"id": "x"}, "restored")}, False),  # given back
        ({"k": record(None, pending={"op": "write", "mark": 2})}, False),
        ({"k": record(None, pending={"op": "write"})}, True),  # an earlier release's write
        ({"_account": record(None, "restored", focus_time={})}, False),
    ],
)
def test_the_old_mark_is_listed_only_while_a_record_may_point_at_an_old_event(
    records: dict[str, Record], possible: bool
) -> None:
    assert legacy_possible(records) is possible
