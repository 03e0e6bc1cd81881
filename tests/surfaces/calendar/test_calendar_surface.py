"""Calendar focus-time blocks end to end: the real CLI and Google client against the sandbox."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.server import Sandbox
from aligner.surfaces.calendar.events import BLOCK_PROP
from tests.conftest import BEFORE, Aligner, flat, write_theme
from tests.surfaces.calendar.marks import google_block_key, key_of_token

NO_SLACK = """
[slack]
enabled = false
"""

CALENDAR = """
[calendar]
enabled = true
event_type = "focusTime"
auto_decline = "declineOnlyNewConflictingInvitations"
decline_message = "Heads-down on {{ theme.name }}"
chat_status = "doNotDisturb"
"""

BLOCKS = {
    "data-refresh": """
[[calendar.blocks]]
id = "data-refresh"
title = "Data refresh"
start = "-24h"
duration = "2h"
description = "Re-check {{ metrics.latency | change }}"
""",
    "rehearsal": """
[[calendar.blocks]]
id = "rehearsal"
title = "Narrative rehearsal"
start = "-21h"
duration = "90m"
""",
    "mock": """
[[calendar.blocks]]
id = "mock"
title = "Mock session with a peer"
start = "-17h30m"
duration = "1h"
""",
}
# Interview 2026-12-03 10:00 PST (18:00Z): the blocks in UTC.
STARTS = {
    "data-refresh": ("2026-12-02T18:00:00Z", "2026-12-02T20:00:00Z"),
    "rehearsal": ("2026-12-02T21:00:00Z", "2026-12-02T22:30:00Z"),
    "mock": ("2026-12-03T00:30:00Z", "2026-12-03T01:30:00Z"),
}
BETWEEN = "2026-12-02T19:00:00Z"  # data-refresh has started, the others have not


def calendar_theme(path: Path, *sections: str, blocks: dict[str, str] = BLOCKS) -> Path:
    return write_theme(path, NO_SLACK, CALENDAR, *sections, *blocks.values())


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    return calendar_theme(tmp_path / "theme.toml")


def events(sandbox: Sandbox, deleted: bool = False) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = sandbox.service("calendar").events(deleted=deleted)
    return result


def blocks(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """aligner's live events, by block id."""
    found = {}
    for event in events(sandbox):
        key = google_block_key(event)
        if key is not None:
            found[key] = event
    return found


def utc(event_time: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(event_time["dateTime"]).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [
        (r.operation.rsplit(".", 1)[1], r.path.rsplit("/", 1)[1])
        for r in sandbox.requests("calendar", writes=True)
    ]


def test_blocks_are_created_as_focus_time_at_the_right_instants(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    found = blocks(sandbox)
    assert set(found) == set(BLOCKS)
    for key, (start, end) in STARTS.items():
        event = found[key]
        assert (utc(event["start"]), utc(event["end"])) == (start, end)
        assert event["start"]["timeZone"] == "America/Los_Angeles"
        assert event["eventType"] == "focusTime"
        assert event["focusTimeProperties"] == {
            "autoDeclineMode": "declineOnlyNewConflictingInvitations",
            "declineMessage": "Heads-down on Optimizing inference pipelines",
            "chatStatus": "doNotDisturb",
        }
        assert event["visibility"] == "private"
        assert "attendees" not in event and "transparency" not in event  # opaque
    assert found["data-refresh"]["description"] == "Re-check 28 ms → 19 ms (−32%)"
    assert "Team standup" in [e.get("summary") for e in events(sandbox)]  # a person's own


def test_plan_shows_local_and_utc_times_and_writes_nothing(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    result = aligner("plan", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert "Wed 02 Dec 10:00–12:00 PST = 18:00–20:00 UTC" in result.stdout
    assert "Wed 02 Dec 16:30–17:30 PST = Thu 03 Dec 00:30–01:30 UTC" in flat(result.stdout)
    assert sandbox.requests("calendar", writes=True) == []
    assert len(sandbox.requests("calendar")) == 1


def test_interview_right_after_a_dst_change(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox
) -> None:
    """Clocks go back at 02:00 on Sun 01 Nov 2026 in Los Angeles; the interview is at 09:00."""
    path = calendar_theme(tmp_path / "dst.toml", blocks={})
    path.write_text(
        path.read_text().replace('"2026-12-03T10:00"', '"2026-11-01T09:00"')
        + '[[calendar.blocks]]\nid = "day-before"\ntitle = "Same time the day before"\n'
        'start = "-1d"\nduration = "1h"\n'
        '[[calendar.blocks]]\nid = "elapsed"\ntitle = "24 hours before"\n'
        'start = "-24h"\nduration = "1h"\n'
        '[[calendar.blocks]]\nid = "warm-up"\ntitle = "Warm-up"\nstart = "-2h"\nduration = "1h"\n'
    )
    run = Aligner(env, path, sandbox)
    plan = run("plan", now="2026-10-30T12:00:00Z")
    assert plan.exit_code == 0, plan.output
    assert "Sat 31 Oct 09:00–10:00 PDT = 16:00–17:00 UTC" in flat(plan.stdout)
    assert "Sat 31 Oct 10:00–11:00 PDT = 17:00–18:00 UTC" in plan.stdout
    assert "Sun 01 Nov 07:00–08:00 PST = 15:00–16:00 UTC" in plan.stdout
    result = run("apply", now="2026-10-30T12:00:00Z")
    assert result.exit_code == 0, result.output
    found = blocks(sandbox)
    assert found["day-before"]["start"]["dateTime"] == "2026-10-31T09:00:00-07:00"
    assert utc(found["elapsed"]["start"]) == "2026-10-31T17:00:00Z"
    assert found["warm-up"]["start"]["dateTime"] == "2026-11-01T07:00:00-08:00"
    assert utc(found["warm-up"]["end"]) == "2026-11-01T16:00:00Z"
    assert all(e["eventType"] == "focusTime" for e in found.values())


def test_second_apply_makes_zero_writes_and_one_read(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert sandbox.requests("calendar", writes=True) == []
    assert [r.operation for r in sandbox.requests("calendar")] == ["calendar.events.list"]
    assert "nothing to do" in result.stdout
    assert aligner("plan", "--detailed-exitcode", now=BEFORE).exit_code == 0


def test_editing_one_blocks_duration_updates_that_event_only(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    before = blocks(sandbox)
    theme.write_text(theme.read_text().replace('duration = "90m"', 'duration = "2h"'))
    plan = aligner("plan", now=BEFORE).stdout
    assert "~ update rehearsal:" in plan
    assert "time: Wed 02 Dec 13:00–14:30 PST = 21:00–22:30 UTC → Wed 02 Dec 13:00–15:00" in plan
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("patch", before["rehearsal"]["id"])]
    after = blocks(sandbox)
    assert after["rehearsal"]["id"] == before["rehearsal"]["id"]
    assert utc(after["rehearsal"]["end"]) == "2026-12-02T23:00:00Z"
    assert after["mock"]["etag"] == before["mock"]["etag"]
    assert after["data-refresh"]["etag"] == before["data-refresh"]["etag"]
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


def test_removing_a_block_deletes_its_event(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock_id = blocks(sandbox)["mock"]["id"]
    calendar_theme(aligner.config, blocks={k: v for k, v in BLOCKS.items() if k != "mock"})
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("delete", mock_id)]
    assert set(blocks(sandbox)) == {"data-refresh", "rehearsal"}
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


def test_a_block_added_back_brings_its_deleted_event_back(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock_id = blocks(sandbox)["mock"]["id"]
    calendar_theme(aligner.config, blocks={k: v for k, v in BLOCKS.items() if k != "mock"})
    assert aligner("apply", now=BEFORE).exit_code == 0
    calendar_theme(aligner.config)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("patch", mock_id)]
    assert blocks(sandbox)["mock"]["status"] == "confirmed"
    assert len(events(sandbox, deleted=True)) == 4  # three blocks and the standup, no duplicate


@pytest.mark.parametrize("behaviour", ["refuse", "store-default"])
def test_consumer_account_falls_back_to_busy_events(
    aligner: Aligner, sandbox: Sandbox, behaviour: str
) -> None:
    sandbox.service("calendar").set_account(workspace=False, consumer_focus=behaviour)
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    found = blocks(sandbox)
    assert set(found) == set(BLOCKS)
    for key, (start, end) in STARTS.items():
        event = found[key]
        assert event["eventType"] == "default"
        assert "focusTimeProperties" not in event
        assert "transparency" not in event  # opaque: shows as busy
        assert (utc(event["start"]), utc(event["end"])) == (start, end)
    refusals = [r for r in sandbox.requests("calendar") if r.status == 400]
    assert len(refusals) == (1 if behaviour == "refuse" else 0)  # learnt once, then remembered
    assert result.stdout.count("plain busy events") == 1  # said in the apply that learnt it
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == []
    assert again.stdout.count("plain busy events") == 1  # said once, not per block
    why = "Google refused focus time" if behaviour == "refuse" else "stored focus time here as"
    assert why in again.stdout
    plan = json.loads(aligner("plan", "--json", now=BEFORE).stdout)
    assert plan["changes"] == []


def test_a_dropped_connection_after_a_committed_insert_makes_no_duplicate(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("calendar.events.insert", "drop")
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert len(blocks(sandbox)) == 3
    assert any(r.status == 409 for r in sandbox.requests("calendar", "calendar.events.insert"))
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []
    assert len(blocks(sandbox)) == 3


def test_an_insert_whose_answers_are_all_lost_converges_next_run(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aligner.vendors.google.client.BACKOFF_BASE", 0.0)
    sandbox.inject("calendar.events.insert", "drop", times=100)
    failed = aligner("apply", now=BEFORE)
    assert failed.exit_code == 1
    assert "Traceback" not in failed.output
    sandbox.faults.clear()
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == []
    assert len(blocks(sandbox)) == 3


def test_a_block_a_person_moved_is_not_moved_back_without_force(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    event = blocks(sandbox)["rehearsal"]
    moved = {"dateTime": "2026-12-02T15:00:00-08:00", "timeZone": "America/Los_Angeles"}
    moved_end = {"dateTime": "2026-12-02T16:30:00-08:00", "timeZone": "America/Los_Angeles"}
    sandbox.service("calendar").edit_event(event["id"], start=moved, end=moved_end)
    sandbox.clear_log()
    plan = aligner("plan", now=BEFORE)
    assert "conflict rehearsal: moved by hand" in plan.stdout
    assert "Wed 02 Dec 15:00–16:30 PST" in plan.stdout
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == []
    assert utc(blocks(sandbox)["rehearsal"]["start"]) == "2026-12-02T23:00:00Z"
    forced = aligner("apply", "--force", now=BEFORE)
    assert forced.exit_code == 0, forced.output
    assert writes(sandbox) == [("patch", event["id"])]
    assert utc(blocks(sandbox)["rehearsal"]["start"]) == STARTS["rehearsal"][0]


def test_a_block_a_person_deleted_is_not_recreated_without_force(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock_id = blocks(sandbox)["mock"]["id"]
    sandbox.service("calendar").delete_event(mock_id)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert "conflict mock: deleted by hand" in result.stdout
    assert writes(sandbox) == []
    assert aligner("apply", "--force", now=BEFORE).exit_code == 0
    assert blocks(sandbox)["mock"]["id"] == mock_id


def test_revert_deletes_unmodified_blocks_and_leaves_the_rest(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    before = blocks(sandbox)
    sandbox.service("calendar").edit_event(before["mock"]["id"], summary="Mock with Sam")
    sandbox.clear_log()
    result = aligner("revert", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("delete", before["rehearsal"]["id"])]
    left = blocks(sandbox)
    assert set(left) == {"data-refresh", "mock"}  # started; changed by hand
    assert left["mock"]["summary"] == "Mock with Sam"
    sandbox.clear_log()
    assert aligner("apply", now=BETWEEN).exit_code == 0
    assert writes(sandbox) == []  # stays reverted


def test_changing_the_event_type_deletes_and_creates(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    before = {key: event["id"] for key, event in blocks(sandbox).items()}
    old = before["mock"]
    theme.write_text(
        theme.read_text().replace('event_type = "focusTime"', 'event_type = "default"')
    )
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    done = writes(sandbox)
    assert len(done) == 6 and ("delete", old) in done
    assert sorted(op for op, _ in done) == ["delete"] * 3 + ["insert"] * 3
    # blocks may go side by side, but each block's old event goes before its new one
    order = [
        (r.operation, r.path.rsplit("/", 1)[1], json.loads(r.body or b"{}"))
        for r in sandbox.requests("calendar", writes=True)
    ]
    for key, event_id in before.items():
        deleted = order.index(("calendar.events.delete", event_id, {}))
        created = next(
            i
            for i, (op, _, body) in enumerate(order)
            if op == "calendar.events.insert"
            and key_of_token(body["extendedProperties"]["private"][BLOCK_PROP]) == key
        )
        assert deleted < created, key
    found = blocks(sandbox)
    assert all(e["eventType"] == "default" for e in found.values())
    assert found["mock"]["id"] != old


def test_bad_auth_fails_fast_with_exit_1(aligner: Aligner) -> None:
    started = time.monotonic()
    result = aligner("apply", now=BEFORE, ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.not-a-real-token")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "calendar" in result.output and "Traceback" not in result.output
    assert "get a fresh one for ALIGNER_GOOGLE_ACCESS_TOKEN" in flat(result.output)
    assert "ya29.not-a-real-token" not in result.output


def test_a_token_without_the_calendar_scope_names_it(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("calendar").accounts.grant(
        "ya29.gmail-only", "https://www.googleapis.com/auth/gmail.compose"
    )
    result = aligner("apply", now=BEFORE, ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.gmail-only")
    assert result.exit_code == 1
    assert "https://www.googleapis.com/auth/calendar.events" in result.output


def test_rate_limits_are_retried(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("calendar.events.insert", "status", status=403, retry_after=0)
    sandbox.inject("calendar.events.list", "status", status=429, retry_after=0)
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert len(blocks(sandbox)) == 3


def test_past_blocks_are_left_alone(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("apply", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert set(blocks(sandbox)) == {"rehearsal", "mock"}  # data-refresh had already started


def test_timeline_lists_block_starts(aligner: Aligner) -> None:
    result = aligner("timeline")
    assert result.exit_code == 0, result.output
    assert "Wed 02 Dec 2026 13:00 PST  calendar block “Narrative rehearsal” starts" in result.stdout
