"""The note from Outlook goes exactly once: lost answers, refused calls, crashes between the
saved intent and the write, concurrent runs, a lost state database. Nothing delivered or stored
names aligner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from aligner.sandbox.http import Request, Response, Routed, Service
from aligner.sandbox.microsoft.mail import INTERNET_HEADERS_SET
from aligner.sandbox.server import Sandbox
from aligner.state.store import Store
from aligner.surfaces.note.diff import shown
from aligner.surfaces.note.outlook import MARK_PROPERTY
from tests.conftest import Aligner, flat
from tests.surfaces.note.note_helpers import BEFORE_SEND, DUE, LATER, STARTED
from tests.surfaces.note_outlook.helpers import (
    calls,
    delivered,
    mail_writes,
    note_drafts,
    outlook,
    outlook_theme,
    sent_items,
    statuses,
)

AFTER_WINDOW = "2026-12-04T06:00:00Z"
KEY = "example-corp-20261203T1800Z"  # the note's store key: company and interview start


def folder_lists(sandbox: Sandbox, folder: str) -> int:
    return len(
        [
            r
            for r in sandbox.requests("graph", "messages.list")
            if f"/mailFolders/{folder}/" in r.path
        ]
    )


# -- lost answers ------------------------------------------------------------------------------


def test_a_lost_answer_after_a_committed_draft_asks_outlook_and_makes_no_second(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.create", "drop")
    first = outlook_draft("apply", now=DUE)
    assert first.exit_code == 1
    assert "next run asks Graph what happened" in flat(first.output)
    assert len(note_drafts(sandbox)) == 1  # Outlook saved it; aligner did not hear back
    second = outlook_draft("apply", now=LATER)
    assert second.exit_code == 0, second.output
    assert "found the draft" in second.stdout
    assert folder_lists(sandbox, "drafts") >= 1  # asked Outlook by the draft's private mark
    assert len(note_drafts(sandbox)) == 1 and calls(sandbox, "create") == 1
    sandbox.clear_log()
    assert "already drafted" in outlook_draft("apply", now=LATER).stdout
    assert mail_writes(sandbox) == 0


def test_a_lost_draft_answer_in_send_mode_sends_that_draft_once(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.create", "drop")
    assert outlook_send("apply", now=DUE).exit_code == 1
    result = outlook_send("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert len(delivered(sandbox)) == 1 and note_drafts(sandbox) == []
    assert calls(sandbox, "create") == 1 and calls(sandbox, "send") == 1


def test_a_lost_answer_after_a_committed_send_is_confirmed_not_repeated(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.send", "drop")
    first = outlook_send("apply", now=DUE)
    assert first.exit_code == 1
    assert len(delivered(sandbox)) == 1  # Outlook sent it; aligner did not hear back
    second = outlook_send("apply", now=LATER)
    assert second.exit_code == 0, second.output
    assert "recording it as sent" in second.stdout
    assert 404 in statuses(sandbox, "get")  # the draft's id is gone: it was sent
    assert folder_lists(sandbox, "sentitems") == 1  # and the sent copy is there
    assert len(delivered(sandbox)) == 1 and len(sent_items(sandbox)) == 1
    assert calls(sandbox, "send") == 1 and calls(sandbox, "create") == 1
    assert "already sent" in outlook_send("plan", now=LATER).stdout


def test_a_lost_send_found_after_the_interview_started_is_recorded_not_repeated(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.send", "drop")
    outlook_send("apply", now=DUE)
    result = outlook_send("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "recording it as sent" in result.stdout
    assert len(delivered(sandbox)) == 1 and calls(sandbox, "send") == 1


@pytest.mark.parametrize("operation", ["messages.create", "messages.send"])
def test_every_answer_lost_for_several_runs_still_delivers_once(
    outlook_send: Aligner, sandbox: Sandbox, operation: str
) -> None:
    sandbox.inject(operation, "drop", times=5)
    for now in (DUE, DUE, LATER):
        outlook_send("apply", now=now)
    sandbox.faults.clear()
    assert outlook_send("apply", now=LATER).exit_code == 0
    assert len(delivered(sandbox)) == 1
    assert calls(sandbox, "create") == 1 and calls(sandbox, "send") == 1


def test_a_create_that_outlook_refused_is_made_once_later(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.create", "status", status=500)
    assert outlook_draft("apply", now=DUE).exit_code == 1
    assert note_drafts(sandbox) == []
    assert outlook_draft("apply", now=LATER).exit_code == 0
    assert len(note_drafts(sandbox)) == 1 and statuses(sandbox, "create") == [500, 201]


@pytest.mark.parametrize(
    ("delivery", "person"), [("draft", "sends"), ("send", "sends"), ("send", "deletes")]
)
def test_a_draft_whose_answer_was_lost_is_never_made_again_once_it_left_drafts(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, delivery: str, person: str
) -> None:
    aligner = Aligner(env, outlook_theme(tmp_path, delivery), sandbox)
    sandbox.inject("messages.create", "drop")
    assert aligner("apply", now=DUE).exit_code == 1
    [draft] = note_drafts(sandbox)
    if person == "sends":
        outlook(sandbox).send_draft(draft.id)
    else:
        outlook(sandbox).delete_draft(draft.id)
    result = aligner("apply", now=DUE)
    assert result.exit_code == 0, result.output
    assert "may have been made and then sent or deleted" in flat(result.stdout)
    assert "check Outlook" in flat(result.stdout)
    assert len(delivered(sandbox)) == (1 if person == "sends" else 0)
    assert note_drafts(sandbox) == [] and calls(sandbox, "create") == 1


# -- a crash between the saved intent and the write ---------------------------------------------


def _crashed_while_creating(state_dir: Path, delivery: str, token: str) -> None:
    """What the ledger holds when a run died right after saving its intent to create."""
    with Store(state_dir / "state.db") as store:
        store.save_extra(
            "note",
            KEY,
            {
                "stage": "creating",
                "mailbox": "Outlook",
                "delivery": delivery,
                "token": token,
                "msgid": token,
                "interview": KEY,
                "interview_start": "2026-12-03T18:00:00+00:00",
                "to": ["Sam Rivera <recruiter@example.com>"],
                "started_at": DUE,
            },
            datetime.fromisoformat(DUE),
        )


def test_a_crash_before_the_create_reached_outlook_asks_first_then_creates_once(
    outlook_draft: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    _crashed_while_creating(state_dir, "draft", "a" * 32)
    result = outlook_draft("apply", now=LATER)
    assert result.exit_code == 0, result.output
    operations = [r.operation for r in sandbox.requests("graph") if r.operation.startswith("m")]
    assert operations.index("messages.list") < operations.index("messages.create")
    [draft] = note_drafts(sandbox)
    assert draft.properties == {MARK_PROPERTY: "a" * 32}
    assert calls(sandbox, "create") == 1


def test_a_crash_after_the_create_committed_finds_the_draft_and_makes_no_second(
    outlook_send: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    _crashed_while_creating(state_dir, "send", "b" * 32)
    box = outlook(sandbox)
    made = box._create(  # what the dead run's create left in Drafts
        {
            "subject": "Tomorrow: Optimizing inference pipelines",
            "body": {"contentType": "text", "content": "Hi Sam"},
            "toRecipients": [{"emailAddress": {"address": "recruiter@example.com"}}],
        },
        {MARK_PROPERTY: "b" * 32},
        [],
    )
    result = outlook_send("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert f"found the draft {shown(made.id)}" in flat(result.stdout)
    assert calls(sandbox, "create") == 0 and len(delivered(sandbox)) == 1


class KillAt:
    """Kills the aligner process when the sandbox receives `operation` (before serving it, or
    after serving it with the answer never sent)."""

    def __init__(self, box: Sandbox, operation: str, after: bool) -> None:
        self.box, self.operation, self.after = box, operation, after
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self._serve = box._serve

    def serve(self, service: Service, routed: Routed, request: Request) -> Response | None:
        with self.lock:
            hit = self.proc is not None and routed.operation == self.operation
        if hit and not self.after:
            self._kill()
            return None
        response = self._serve(service, routed, request)
        if hit:
            self._kill()
            return None
        return response

    def _kill(self) -> None:
        with self.lock:
            if self.proc is not None:
                self.proc.send_signal(signal.SIGKILL)
                self.proc = None


@pytest.mark.parametrize(
    ("operation", "after"),
    [("messages.create", False), ("messages.create", True), ("messages.send", True)],
)
def test_sigkill_at_a_write_then_an_apply_delivers_exactly_once(
    env: dict[str, str],
    tmp_path: Path,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    after: bool,
) -> None:
    theme = outlook_theme(tmp_path, "send")
    killer = KillAt(sandbox, operation, after)
    monkeypatch.setattr(sandbox, "_serve", killer.serve)
    sandbox.clock.pinned = datetime.fromisoformat(DUE)
    full = {**os.environ, **env, "ALIGNER_NOW": DUE}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aligner", "apply", "--config", str(theme)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    killer.proc = proc
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    result = Aligner(env, theme, sandbox)("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert len(delivered(sandbox)) == 1 and note_drafts(sandbox) == []
    committed = [r for r in sandbox.requests("graph", "messages.create") if r.status == 201]
    assert len(committed) == 1


# -- concurrent runs and a lost state database -------------------------------------------------


def test_two_concurrent_cli_applies_deliver_one_note(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    theme = outlook_theme(tmp_path, "send")
    sandbox.clock.pinned = datetime.fromisoformat(DUE)
    sandbox.inject("messages.create", "latency", seconds=0.3, times=2)
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
    assert len(delivered(sandbox)) == 1
    assert calls(sandbox, "create") == 1 and calls(sandbox, "send") == 1


def lose_the_state_database(state_dir: Path) -> None:
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (state_dir / name).unlink(missing_ok=True)


def test_a_lost_state_database_after_the_send_does_not_send_it_again(
    outlook_send: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert outlook_send("apply", now=DUE).exit_code == 0
    lose_the_state_database(state_dir)
    result = outlook_send("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "note receipt" in result.stdout and "not delivered again" in flat(result.stdout)
    assert len(delivered(sandbox)) == 1 and calls(sandbox, "create") == 1


def test_a_lost_state_database_with_the_draft_waiting_asks_outlook_and_makes_no_second(
    outlook_draft: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert outlook_draft("apply", now=DUE).exit_code == 0
    lose_the_state_database(state_dir)
    result = outlook_draft("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "still in your Drafts" in flat(result.stdout)
    assert len(note_drafts(sandbox)) == 1 and calls(sandbox, "create") == 1


# -- discretion ---------------------------------------------------------------------------------


def no_aligner_anywhere(sandbox: Sandbox) -> None:
    box = outlook(sandbox)
    for received in box.delivered:
        for name, value in received["headers"]:
            assert "aligner" not in f"{name}: {value}".lower(), (name, value)
        assert "aligner" not in received["body"].lower()
        assert received["categories"] == []
    for message in box.messages.values():
        stored = json.dumps([message.fields, message.properties, message.headers])
        assert "aligner" not in stored.lower(), stored
        assert message.headers == []  # no custom Internet message headers at all
        assert message.fields["categories"] == []
        for prop in message.properties:  # a MAPI property, never one that becomes a header
            assert INTERNET_HEADERS_SET not in prop.lower()


@pytest.mark.parametrize("delivery", ["draft", "send"])
def test_nothing_delivered_or_stored_names_aligner_across_the_whole_timeline(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, delivery: str
) -> None:
    aligner = Aligner(env, outlook_theme(tmp_path, delivery), sandbox)
    sandbox.inject("messages.create", "drop")  # found again by its private mark, no other
    sandbox.inject("messages.send", "drop")
    for now in (BEFORE_SEND, DUE, DUE, LATER, STARTED, AFTER_WINDOW):
        aligner("apply", now=now)
        no_aligner_anywhere(sandbox)
    assert len(delivered(sandbox)) + len(note_drafts(sandbox)) == 1
    assert calls(sandbox, "create") == 1
    if delivery == "send":
        [received] = delivered(sandbox)
        names = [name.lower() for name, _ in received["headers"]]
        assert [n for n in names if n.startswith("x-")] == [
            "x-ms-has-attach",
            "x-ms-tnef-correlator",
        ]


def test_a_lost_send_answer_while_outlook_is_still_sending_is_not_sent_again(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    """Graph answers 202 and sends afterwards: the draft is still in Drafts for a while."""
    box = outlook(sandbox)
    box.send_later = True
    sandbox.inject("messages.send", "drop")
    assert outlook_send("apply", now=DUE).exit_code == 1
    assert len(note_drafts(sandbox)) == 1 and box.in_flight  # accepted, not yet sent
    soon = outlook_send("apply", now="2026-12-03T03:02:00Z")
    assert soon.exit_code == 1
    assert "may still be sending it" in flat(soon.output)
    assert calls(sandbox, "send") == 1
    box.finish_sending()
    later = outlook_send("apply", now=LATER)
    assert later.exit_code == 0, later.output
    assert "recording it as sent" in later.stdout
    assert len(delivered(sandbox)) == 1 and calls(sandbox, "send") == 1


def test_a_refused_send_is_tried_again_at_once(outlook_send: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("messages.send", "status", status=503, retry_after=0)
    assert outlook_send("apply", now=DUE).exit_code == 1
    result = outlook_send("apply", now="2026-12-03T03:01:00Z")  # a minute later
    assert result.exit_code == 0, result.output
    assert len(delivered(sandbox)) == 1 and statuses(sandbox, "send") == [503, 202]
