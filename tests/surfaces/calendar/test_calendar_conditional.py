"""Conditional writes: a person who edits a block between aligner's read and its write wins.

Patch and delete carry `If-Match` with the etag read in the same run; Google answers 412 when the
event changed since (https://developers.google.com/calendar/api/guides/version-resources). The
person's edit is injected by a test double around the fake Calendar: it edits the event in the
"UI" just before the first write reaches the service, after aligner's events.list read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.http import Request, Response, Routed
from aligner.sandbox.server import Sandbox
from tests.conftest import BEFORE, Aligner, flat
from tests.surfaces.calendar.test_calendar_surface import (
    BETWEEN,
    BLOCKS,
    blocks,
    calendar_theme,
    utc,
    writes,
)

MOVED = {"dateTime": "2026-12-02T15:00:00-08:00", "timeZone": "America/Los_Angeles"}
MOVED_END = {"dateTime": "2026-12-02T16:30:00-08:00", "timeZone": "America/Los_Angeles"}


def edit_before_first(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, operation: str, edit: Callable[[], Any]
) -> list[Request]:
    """On the first `operation` request, a person's edit lands first; returns what was sent."""
    calendar = sandbox.service("calendar")
    original = calendar.handle
    seen: list[Request] = []

    def handle(request: Request, routed: Routed) -> Response:
        if routed.operation == operation:
            seen.append(request)
            if len(seen) == 1:
                edit()
        response: Response = original(request, routed)
        return response

    monkeypatch.setattr(calendar, "handle", handle)
    return seen


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    return calendar_theme(tmp_path / "theme.toml")


@pytest.fixture
def retitled(tmp_path: Path) -> Path:
    """The same theme with the rehearsal block renamed: the next apply patches that event."""
    renamed = {**BLOCKS, "rehearsal": BLOCKS["rehearsal"].replace("Narrative", "Story")}
    return calendar_theme(tmp_path / "retitled.toml", blocks=renamed)


def test_a_person_editing_between_read_and_patch_is_not_overwritten(
    aligner: Aligner,
    sandbox: Sandbox,
    retitled: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    event = blocks(sandbox)["rehearsal"]
    calendar = sandbox.service("calendar")
    sent = edit_before_first(
        sandbox,
        monkeypatch,
        "calendar.events.patch",
        lambda: calendar.edit_event(event["id"], start=MOVED, end=MOVED_END),
    )
    renamed = Aligner(aligner.env, retitled, sandbox)
    sandbox.clear_log()

    result = renamed("apply", now=BEFORE)

    assert result.exit_code == 1, result.output
    assert sent[0].headers["if-match"] == event["etag"]
    assert [r.status for r in sandbox.requests("calendar", "calendar.events.patch")] == [412]
    kept = blocks(sandbox)["rehearsal"]
    assert kept["summary"] == "Narrative rehearsal"  # aligner's rename did not land
    assert utc(kept["start"]) == "2026-12-02T23:00:00Z"  # the person's move stands
    assert f"event {event['id']} changed on the calendar since aligner read it" in flat(
        result.output
    )
    assert "Traceback" not in result.output

    plan = renamed("plan", now=BEFORE)
    assert "conflict rehearsal: moved by hand" in plan.stdout
    sandbox.clear_log()
    again = renamed("apply", now=BEFORE)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == []  # humans win: nothing re-asserted without --force


def test_a_person_editing_between_read_and_delete_keeps_the_event(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    mock = blocks(sandbox)["mock"]
    calendar = sandbox.service("calendar")
    edit_before_first(
        sandbox,
        monkeypatch,
        "calendar.events.delete",
        lambda: calendar.edit_event(mock["id"], summary="Mock with Sam"),
    )
    sandbox.clear_log()

    result = aligner("revert", now=BETWEEN)

    assert result.exit_code == 1, result.output
    assert f"event {mock['id']} changed on the calendar since aligner read it" in flat(
        result.output
    )
    assert blocks(sandbox)["mock"]["summary"] == "Mock with Sam"  # still there, as edited
    assert "rehearsal" not in blocks(sandbox)  # the untouched block was given back
    sandbox.clear_log()
    again = aligner("revert", now=BETWEEN)
    assert "conflict mock: renamed by hand" in again.stdout
    assert writes(sandbox) == []
    assert blocks(sandbox)["mock"]["summary"] == "Mock with Sam"


def test_a_retried_patch_whose_first_attempt_landed_is_not_a_conflict(
    aligner: Aligner,
    sandbox: Sandbox,
    retitled: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer to the patch is lost, the retry meets 412 (the etag moved on with aligner's
    own write): aligner reads the event, finds its change there and reports success."""
    monkeypatch.setattr("aligner.vendors.google.client.BACKOFF_BASE", 0.0)
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.inject("calendar.events.patch", "drop")
    sandbox.clear_log()

    result = Aligner(aligner.env, retitled, sandbox)("apply", now=BEFORE)

    assert result.exit_code == 0, result.output
    statuses = [r.status for r in sandbox.requests("calendar", "calendar.events.patch")]
    assert statuses == [200, 412]
    assert blocks(sandbox)["rehearsal"]["summary"] == "Story rehearsal"


def test_writes_without_a_person_in_between_carry_the_etag_and_succeed(
    aligner: Aligner,
    sandbox: Sandbox,
    retitled: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert aligner("apply", now=BEFORE).exit_code == 0
    before = blocks(sandbox)["rehearsal"]
    sent = edit_before_first(sandbox, monkeypatch, "calendar.events.patch", lambda: None)
    result = Aligner(aligner.env, retitled, sandbox)("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert [r.headers["if-match"] for r in sent] == [before["etag"]]
    assert blocks(sandbox)["rehearsal"]["summary"] == "Story rehearsal"
