"""Outlook blocks over their life: lost answers, hand edits, If-Match, giving back, throttling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.server import Fault, Sandbox
from tests.conftest import AFTER, BEFORE, Aligner, flat
from tests.surfaces.calendar.test_calendar_surface import BETWEEN, BLOCKS, STARTS
from tests.surfaces.calendar_microsoft.conftest import (
    blocks,
    calls,
    outlook,
    outlook_theme,
    sent,
    utc,
    writes,
)

MOVED = {"dateTime": "2026-12-02T15:00:00", "timeZone": "America/Los_Angeles"}
MOVED_END = {"dateTime": "2026-12-02T16:30:00", "timeZone": "America/Los_Angeles"}


def creates(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [sent(r) for r in calls(sandbox, writes=True) if r.operation == "events.create"]


def around(
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    act: Callable[[Request, Routed, int], Response | None],
) -> None:
    """A test double around the fake Outlook calendar: `act(request, routed, n)` may answer
    instead of it (n counts the requests of that operation so far)."""
    service = outlook(sandbox)
    original = service.handle
    seen: dict[str, int] = {}

    def handle(request: Request, routed: Routed) -> Response:
        seen[routed.operation] = seen.get(routed.operation, 0) + 1
        answer = act(request, routed, seen[routed.operation])
        if answer is not None:
            return answer
        response: Response = original(request, routed)
        return response

    monkeypatch.setattr(service, "handle", handle)


# -- exactly once ---------------------------------------------------------------------------------


def test_a_dropped_answer_after_a_committed_create_makes_no_duplicate(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("events.create", "drop")
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert len(blocks(sandbox)) == 3
    assert len(creates(sandbox)) == 3  # the lost one was found by asking, not posted again
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == []
    assert len(blocks(sandbox)) == 3


def test_a_create_graph_cannot_find_yet_is_posted_again_with_the_same_transaction_id(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is lost and the search does not show the new event yet: aligner posts again
    with the same transactionId, and Graph returns the event it made instead of a second one."""
    sandbox.inject("events.create", "drop")

    def search_lags(request: Request, routed: Routed, n: int) -> Response | None:
        lagging = routed.operation == "events.list" and n == 2  # 1: the plan's read
        return Response(200, {"value": []}) if lagging else None

    around(sandbox, monkeypatch, search_lags)
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    posted = creates(sandbox)
    assert len(posted) == 4
    assert posted[0]["transactionId"] == posted[1]["transactionId"]
    assert len({p["transactionId"] for p in posted}) == 3
    assert len(blocks(sandbox)) == 3  # one event per block: Graph recognised the retry
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


def test_a_create_whose_answer_and_check_are_lost_converges_next_run(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every create lands but its answer is lost, and so is the check that follows: the run
    fails; the next one finds the blocks (aligner's pending writes) and writes nothing."""
    sandbox.inject("events.create", "drop", times=100)

    def checks_lost(request: Request, routed: Routed, n: int) -> Response | None:
        if routed.operation == "events.create" and n == 1:  # from now on, lists are lost too
            sandbox.faults.append(Fault("events.list", "drop", times=100))
        return None

    around(sandbox, monkeypatch, checks_lost)
    failed = aligner("apply", now=BEFORE)
    assert failed.exit_code == 1
    assert "Traceback" not in failed.output
    assert len(blocks(sandbox)) == 3  # they landed
    sandbox.faults.clear()
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == []
    assert "conflict" not in result.stdout
    assert len(blocks(sandbox)) == 3


# -- humans win -----------------------------------------------------------------------------------


def test_a_block_a_person_moved_is_reported_and_not_moved_back_without_force(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    event = blocks(sandbox)["rehearsal"]
    outlook(sandbox).edit_event(event["id"], start=MOVED, end=MOVED_END)
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
    assert writes(sandbox) == [("update", event["id"])]
    assert utc(blocks(sandbox)["rehearsal"]["start"]) == STARTS["rehearsal"][0]


def test_a_block_a_person_deleted_is_not_created_again(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    outlook(sandbox).delete_event(blocks(sandbox)["mock"]["id"])
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert "conflict mock: deleted by hand" in result.stdout
    assert writes(sandbox) == []
    assert aligner("apply", "--force", now=BEFORE).exit_code == 0
    assert "mock" in blocks(sandbox)


def test_a_person_editing_between_read_and_update_is_not_overwritten(
    aligner: Aligner, sandbox: Sandbox, theme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    event = blocks(sandbox)["rehearsal"]
    theme.write_text(theme.read_text().replace("Narrative", "Story"))
    headers: list[str | None] = []

    def person_first(request: Request, routed: Routed, n: int) -> Response | None:
        if routed.operation == "events.update" and n == 1:
            headers.append(request.headers.get("if-match"))
            outlook(sandbox).edit_event(event["id"], start=MOVED, end=MOVED_END)
        return None

    around(sandbox, monkeypatch, person_first)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 1, result.output
    assert headers == [event["@odata.etag"]]
    assert [r.status for r in calls(sandbox) if r.operation == "events.update"] == [412]
    kept = blocks(sandbox)["rehearsal"]
    assert kept["subject"] == "Narrative rehearsal"  # aligner's rename did not land
    assert utc(kept["start"]) == "2026-12-02T23:00:00Z"  # the person's move stands
    lines = [x for x in result.output.splitlines() if "since aligner read it" in x]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "conflict rehearsal: moved by hand" in aligner("plan", now=BEFORE).stdout
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == []


def test_a_person_editing_between_read_and_delete_keeps_the_event(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock = blocks(sandbox)["mock"]

    def person_first(request: Request, routed: Routed, n: int) -> Response | None:
        deleting_mock = routed.operation == "events.delete" and mock["id"] in request.path
        if deleting_mock:
            outlook(sandbox).edit_event(mock["id"], subject="Mock with Sam")
        return None

    around(sandbox, monkeypatch, person_first)
    result = aligner("revert", now=BETWEEN)
    assert result.exit_code == 1, result.output
    assert f"event {mock['id']} changed on the calendar since aligner read it" in flat(
        result.output
    )
    assert blocks(sandbox)["mock"]["subject"] == "Mock with Sam"
    assert "rehearsal" not in blocks(sandbox)  # the untouched block was given back
    sandbox.clear_log()
    again = aligner("revert", now=BETWEEN)
    assert "conflict mock: renamed by hand" in again.stdout
    assert writes(sandbox) == []


# -- changes and giving back ----------------------------------------------------------------------


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
    assert writes(sandbox) == [("update", before["rehearsal"]["id"])]
    update = sent(calls(sandbox, writes=True)[0])
    assert "transactionId" not in update and "singleValueExtendedProperties" not in update
    after = blocks(sandbox)
    assert utc(after["rehearsal"]["end"]) == "2026-12-02T23:00:00Z"
    assert after["mock"]["@odata.etag"] == before["mock"]["@odata.etag"]
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


def test_a_public_block_shows_as_a_normal_event_and_plans_name_outlooks_fields(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(
        theme.read_text().replace('title = "Mock', 'visibility = "public"\ntitle = "Mock')
    )
    plan = aligner("plan", now=BEFORE)
    assert "sensitivity: private → normal" in plan.stdout
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert blocks(sandbox)["mock"]["sensitivity"] == "normal"


def test_removing_a_block_deletes_its_event(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock = blocks(sandbox)["mock"]
    outlook_theme(aligner.config, blocks={k: v for k, v in BLOCKS.items() if k != "mock"})
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("delete", mock["id"])]
    deleted = next(r for r in sandbox.requests("graph") if r.operation == "events.delete")
    assert deleted.status == 204
    assert set(blocks(sandbox)) == {"data-refresh", "rehearsal"}
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == []


def test_revert_gives_back_unstarted_unmodified_blocks_and_leaves_the_rest(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    before = blocks(sandbox)
    outlook(sandbox).edit_event(before["mock"]["id"], subject="Mock with Sam")
    sandbox.clear_log()
    result = aligner("revert", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == [("delete", before["rehearsal"]["id"])]
    left = blocks(sandbox)
    assert set(left) == {"data-refresh", "mock"}  # started; changed by hand
    sandbox.clear_log()
    assert aligner("apply", now=BETWEEN).exit_code == 0
    assert writes(sandbox) == []  # stays reverted


def test_after_everything_is_given_back_no_call_is_made(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(
        theme.read_text().replace("enabled = true\nprovider", "enabled = false\nprovider")
    )
    sandbox.clear_log()
    result = aligner("apply", now=BETWEEN)
    assert result.exit_code == 0, result.output
    assert sorted(op for op, _ in writes(sandbox)) == ["delete", "delete"]
    assert set(blocks(sandbox)) == {"data-refresh"}  # it had started: left as it is
    sandbox.clear_log()
    assert aligner("apply", now=BETWEEN).exit_code == 0
    assert calls(sandbox) == []
    assert aligner("apply", now=AFTER).exit_code == 0
    assert calls(sandbox) == []


def test_after_the_window_every_block_is_history(aligner: Aligner, sandbox: Sandbox) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("stays on the calendar as it is") == 3
    sandbox.clear_log()
    assert aligner("revert", now=AFTER).exit_code == 0
    assert writes(sandbox) == []
    assert len(blocks(sandbox)) == 3


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
    assert fresh("revert", now=BEFORE).exit_code == 0
    assert blocks(sandbox) == {}


# -- throttling -----------------------------------------------------------------------------------


def test_429_and_503_are_waited_out_within_the_cap(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("events.list", "status", status=429, retry_after=0)
    sandbox.inject("events.create", "status", status=503, retry_after=0)
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert len(blocks(sandbox)) == 3
    statuses = [(r.operation, r.status) for r in calls(sandbox)]
    assert statuses.count(("events.list", 429)) == 1 and statuses.count(("events.list", 200)) == 1
    assert statuses.count(("events.create", 503)) == 1
    assert statuses.count(("events.create", 201)) == 3


def test_a_wait_beyond_the_cap_fails_without_waiting(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("events.list", "status", status=429, retry_after=3600)
    result = aligner("apply", now=BEFORE, ALIGNER_RETRY_CAP="5")
    assert result.exit_code == 1
    assert "TooManyRequests" in result.output and "Traceback" not in result.output
    assert len(calls(sandbox)) == 1  # not retried: the wait would pass the cap
    assert blocks(sandbox) == {}


def test_a_run_reads_and_writes_over_one_client_closed_when_it_ends(
    aligner: Aligner, sandbox: Sandbox, theme: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(theme.read_text().replace('duration = "90m"', 'duration = "2h"'))
    made: list[httpx.Client] = []
    original = httpx.Client.__init__

    def counted(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", counted)
    sandbox.clear_log()
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert [r.operation for r in calls(sandbox)] == ["events.list", "events.update"]
    assert len(made) == 1 and made[0].is_closed


def test_switching_provider_leaves_the_google_blocks_and_creates_outlook_ones(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    google = theme.read_text().replace('provider = "microsoft"\n', "")
    outlook_text = theme.read_text()
    theme.write_text(google)
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert len(sandbox.service("calendar").events()) == 4  # three blocks and the standup
    theme.write_text(outlook_text)
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert flat(result.stdout).count("on Google Calendar (provider changed); left there") == 3
    assert set(blocks(sandbox)) == set(BLOCKS)
    assert len(sandbox.service("calendar").events()) == 4  # Google's are left as they are
    sandbox.clear_log()
    again = aligner("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == [] and "provider changed" not in again.stdout


def test_switching_back_to_google_leaves_the_outlook_blocks(
    aligner: Aligner, sandbox: Sandbox, theme: Path
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    theme.write_text(theme.read_text().replace('provider = "microsoft"\n', ""))
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert flat(result.stdout).count("on the Outlook calendar (provider changed)") == 3
    assert set(blocks(sandbox)) == set(BLOCKS)  # left as they are
    assert len(sandbox.service("calendar").events()) == 4  # and made on Google
