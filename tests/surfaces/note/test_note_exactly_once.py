"""The note goes exactly once: lost answers, failed calls, crashes and concurrent runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from aligner.core.rehearsal import sandbox_settings
from aligner.core.session import open_session
from aligner.sandbox.server import Sandbox
from aligner.surfaces.note.message import NoteContent, build_message, encode_raw
from aligner.theme.validation import load_theme
from aligner.vendors.google.client import build_service, execute
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from aligner.vendors.google.settings import GoogleSettings
from tests.conftest import Aligner
from tests.surfaces.note.note_helpers import (
    DUE,
    LATER,
    STARTED,
    aligner_drafts,
    calls,
    mailbox,
    note_draft_ids,
    note_theme,
    sent,
)


def test_a_lost_answer_after_a_committed_send_still_leaves_one_sent_message(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.send", "drop")
    first = send_note("apply", now=DUE)
    assert first.exit_code == 1
    assert "next run will try again" in first.output
    assert len(sent(sandbox)) == 1  # Gmail committed it; aligner did not hear back
    second = send_note("apply", now=LATER)
    assert second.exit_code == 0, second.output
    assert "recording it as sent" in second.stdout
    assert len(sent(sandbox)) == 1 and aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.send") == 1 and calls(sandbox, "drafts.create") == 1
    third = send_note("plan", now=LATER)
    assert "already sent" in third.stdout and "the answer was lost" in third.stdout


def test_a_lost_answer_after_a_committed_draft_still_leaves_one_draft(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.create", "drop")
    assert draft_note("apply", now=DUE).exit_code == 1
    assert len(aligner_drafts(sandbox)) == 1
    second = draft_note("apply", now=LATER)
    assert second.exit_code == 0, second.output
    assert "found the draft" in second.stdout
    assert len(aligner_drafts(sandbox)) == 1
    assert calls(sandbox, "drafts.create") == 1
    sandbox.clear_log()
    assert "already drafted" in draft_note("apply", now=LATER).stdout
    assert len(sandbox.requests("gmail", writes=True)) == 0


def test_a_lost_draft_answer_in_send_mode_sends_that_draft(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.create", "drop")
    assert send_note("apply", now=DUE).exit_code == 1
    assert send_note("apply", now=LATER).exit_code == 0
    assert len(sent(sandbox)) == 1 and aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.create") == 1 and calls(sandbox, "drafts.send") == 1


def test_a_refused_send_is_tried_again_because_the_draft_is_still_there(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.send", "status", status=503, retry_after=0)
    assert send_note("apply", now=DUE).exit_code == 1
    assert sent(sandbox) == [] and len(aligner_drafts(sandbox)) == 1
    assert send_note("apply", now=LATER).exit_code == 0
    assert len(sent(sandbox)) == 1 and aligner_drafts(sandbox) == []
    assert [r.status for r in sandbox.requests("gmail", "gmail.drafts.send")] == [503, 200]


def test_a_create_that_never_reached_gmail_is_made_once_later(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.create", "status", status=500, retry_after=0)
    assert draft_note("apply", now=DUE).exit_code == 1
    assert aligner_drafts(sandbox) == []
    assert draft_note("apply", now=LATER).exit_code == 0
    assert len(aligner_drafts(sandbox)) == 1
    assert [r.status for r in sandbox.requests("gmail", "gmail.drafts.create")] == [500, 200]


def test_a_lost_send_found_after_the_interview_started_is_recorded_not_repeated(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.send", "drop")
    send_note("apply", now=DUE)
    result = send_note("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "recording it as sent" in result.stdout
    assert len(sent(sandbox)) == 1 and calls(sandbox, "drafts.send") == 1


def test_a_draft_not_yet_sent_when_the_interview_starts_is_missed_not_sent(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.send", "status", status=503, retry_after=0)
    send_note("apply", now=DUE)
    result = send_note("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "missed" in result.stdout and "in your Drafts" in result.stdout
    assert sent(sandbox) == [] and calls(sandbox, "drafts.send") == 1


@pytest.mark.heavy(2)
def test_two_concurrent_cli_applies_deliver_one_note(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    theme = note_theme(tmp_path, "send")
    sandbox.clock.pinned = datetime.fromisoformat(DUE)
    sandbox.inject("gmail.getProfile", "latency", seconds=0.3, times=3)
    full = {**os.environ, **env, "ALIGNER_NOW": DUE}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "aligner", "apply", "--config", str(theme)],
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert len(sent(sandbox)) == 1
    assert calls(sandbox, "drafts.create") == 1 and calls(sandbox, "drafts.send") == 1


def test_the_protocol_alone_keeps_concurrent_runs_to_one_note(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Without the run lock (lock=False), both runs plan a send; only one happens."""
    config = load_theme(note_theme(tmp_path, "send")).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    now = datetime.fromisoformat(DUE)
    sandbox.clock.pinned = now
    sandbox.inject("gmail.getProfile", "latency", seconds=0.3, times=2)
    planned = threading.Barrier(2)
    outcomes: list[bool] = []
    planned_actions: list[str] = []

    def run() -> None:
        with open_session(settings, config, lock=False) as session:
            plan = session.plan(now)
            planned_actions.extend(c.action for c in plan.changes)
            planned.wait(timeout=60)
            result = session.engine.apply(plan, now)
            outcomes.append(not result.failed)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes == [True, True]
    assert planned_actions == ["send", "send"]
    assert len(sent(sandbox)) == 1
    assert calls(sandbox, "drafts.create") == 1 and calls(sandbox, "drafts.send") == 1


def test_writes_go_out_once_even_when_the_connection_drops(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """httplib2 re-sends a request whose connection dropped; aligner's Google transport does not."""
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    drafts = build_service(settings.part(GoogleSettings), "gmail", "v1", "note").users().drafts()
    note = NoteContent(("sam@example.com",), (), "Hello", "Hi\n")
    request = drafts.create(
        userId="me", body={"message": {"raw": encode_raw(build_message(note, "t"))}}
    )
    sandbox.inject("gmail.drafts.create", "drop")
    with pytest.raises(Exception, match="not sending it again"):
        execute(request, "note", GMAIL_COMPOSE, retry=False)
    request.http.close()  # httplib2 keeps sockets open otherwise
    assert calls(sandbox, "drafts.create") == 1


@pytest.mark.parametrize(
    ("delivery", "person"), [("draft", "sends"), ("send", "sends"), ("send", "deletes")]
)
def test_a_draft_whose_answer_was_lost_is_never_made_again_once_it_left_drafts(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, delivery: str, person: str
) -> None:
    aligner = Aligner(env, note_theme(tmp_path, delivery), sandbox)
    sandbox.inject("gmail.drafts.create", "drop")
    assert aligner("apply", now=DUE).exit_code == 1
    box = mailbox(sandbox)
    [draft_id] = note_draft_ids(sandbox)
    if person == "sends":
        box.send_draft(draft_id)
    else:
        box.delete_draft(draft_id)
    result = aligner("apply", now=DUE)
    assert result.exit_code == 0, result.output
    assert "may have been made and then sent or deleted" in result.stdout
    assert len(sent(sandbox)) == (1 if person == "sends" else 0)
    assert aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.create") == 1
