"""The note names nothing, belongs to its interview, and is remembered beyond the state database."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from aligner.state.store import Store
from tests.conftest import Aligner, flat
from tests.surfaces.note.note_helpers import (
    BEFORE_SEND,
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

AFTER_WINDOW = "2026-12-04T06:00:00Z"
OLD_KEY = "example-corp-20261203T1800Z"  # what every version stored: "<company slug>-<start>"


def edit(theme: Path, old: str, new: str) -> None:
    text = theme.read_text(encoding="utf-8")
    assert old in text
    theme.write_text(text.replace(old, new, 1), encoding="utf-8")


def lose_the_state_database(state_dir: Path) -> None:
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (state_dir / name).unlink(missing_ok=True)


def no_aligner_anywhere(sandbox: Sandbox) -> None:
    for raw in mailbox(sandbox).raw_messages():
        assert b"aligner" not in raw.lower(), raw.decode("ascii", "replace")


@pytest.mark.parametrize("delivery", ["draft", "send"])
def test_no_stored_note_names_aligner_across_the_whole_timeline(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, delivery: str
) -> None:
    aligner = Aligner(env, note_theme(tmp_path, delivery), sandbox)
    sandbox.inject("gmail.drafts.create", "drop")  # found again by its Message-ID, no other mark
    for now in (BEFORE_SEND, DUE, DUE, LATER, STARTED, AFTER_WINDOW):
        aligner("apply", now=now)
        no_aligner_anywhere(sandbox)
    assert len(sent(sandbox)) + len(aligner_drafts(sandbox)) == 1
    assert calls(sandbox, "drafts.create") == 1
    [message] = sent(sandbox) or aligner_drafts(sandbox)
    assert all(not name.lower().startswith("x-") for name in message)
    if delivery == "draft":  # the draft keeps aligner's Message-ID, on the sender's own domain
        assert str(message["Message-ID"]).endswith("@example.com>")


def test_the_draft_keeps_its_message_id_which_finds_it_again(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.drafts.create", "drop")
    assert draft_note("apply", now=DUE).exit_code == 1
    [draft] = aligner_drafts(sandbox)
    assert draft_note("apply", now=LATER).exit_code == 0
    [found] = aligner_drafts(sandbox)
    assert found["Message-ID"] == draft["Message-ID"] and calls(sandbox, "drafts.list") >= 1
    assert note_draft_ids(sandbox) and calls(sandbox, "drafts.create") == 1


def test_a_company_typo_fixed_after_the_note_went_out_does_not_send_it_again(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    assert send_note("apply", now=DUE).exit_code == 0
    edit(send_note.config, 'company = "Example Corp"', 'company = "Example Crop"')
    result = send_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "already sent" in result.stdout and "not delivered again" in result.stdout
    assert "resend = true" in result.stdout
    assert len(sent(sandbox)) == 1 and calls(sandbox, "drafts.create") == 1


def test_a_time_moved_before_the_interview_does_not_send_it_again(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    assert send_note("apply", now=DUE).exit_code == 0
    edit(send_note.config, 'starts_at = "2026-12-03T10:00"', 'starts_at = "2026-12-03T11:00"')
    result = send_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "not delivered again" in result.stdout
    assert len(sent(sandbox)) == 1


def test_a_later_interview_gets_a_note_of_its_own(send_note: Aligner, sandbox: Sandbox) -> None:
    assert send_note("apply", now=DUE).exit_code == 0
    edit(send_note.config, 'starts_at = "2026-12-03T10:00"', 'starts_at = "2026-12-10T10:00"')
    assert send_note("apply", now="2026-12-10T03:00:00Z").exit_code == 0
    assert len(sent(sandbox)) == 2  # the first interview is over: this is another one


@pytest.mark.parametrize("how", ["resend", "force"])
def test_a_changed_company_sends_again_only_when_asked(
    send_note: Aligner, sandbox: Sandbox, how: str
) -> None:
    assert send_note("apply", now=DUE).exit_code == 0
    edit(send_note.config, 'company = "Example Corp"', 'company = "Example Co"')
    if how == "resend":
        edit(
            send_note.config, "include_signature = true", "include_signature = true\nresend = true"
        )
        plan = send_note("plan", now=LATER)
        assert "again, as asked" in plan.stdout, plan.output
        result = send_note("apply", now=LATER)
    else:
        result = send_note("apply", "--force", now=LATER)
    assert result.exit_code == 0, result.output
    assert len(sent(sandbox)) == 2
    again = send_note("apply", now=LATER)  # asked once: the new note is now the one that went
    assert again.exit_code == 0 and len(sent(sandbox)) == 2


def test_a_note_recorded_by_an_older_version_still_counts_as_delivered(
    send_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    """An older state database: the company in the key, no interview fields, a token header."""
    with Store(state_dir / "state.db") as store:
        at = datetime.fromisoformat(DUE)
        store.save_extra(
            "note",
            OLD_KEY,
            {
                "stage": "sent",
                "delivery": "send",
                "token": "0" * 32,
                "search": "to:recruiter@example.com",
                "draft_id": "r-1",
                "sent_id": "18c0000000000001",
                "started_at": DUE,
                "sent_at": DUE,
            },
            at,
        )
    same = send_note("apply", now=LATER)
    assert same.exit_code == 0, same.output
    assert "already sent" in same.stdout
    edit(send_note.config, 'company = "Example Corp"', 'company = "Example Corporation"')
    renamed = send_note("apply", now=LATER)
    assert renamed.exit_code == 0, renamed.output
    assert "not delivered again" in renamed.stdout
    assert sent(sandbox) == [] and calls(sandbox, "drafts.create") == 0


def test_a_lost_state_database_after_the_send_does_not_send_it_again(
    send_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert send_note("apply", now=DUE).exit_code == 0
    lose_the_state_database(state_dir)
    result = send_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "note receipt" in result.stdout and "not delivered again" in result.stdout
    assert len(sent(sandbox)) == 1 and calls(sandbox, "drafts.create") == 1
    forced = send_note("apply", "--force", now=LATER)  # asking still works
    assert forced.exit_code == 0 and len(sent(sandbox)) == 2


def test_a_lost_state_database_with_the_draft_waiting_asks_gmail_and_makes_no_second(
    draft_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    assert draft_note("apply", now=DUE).exit_code == 0
    lose_the_state_database(state_dir)
    result = draft_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "still in your Drafts" in flat(result.stdout)
    assert len(aligner_drafts(sandbox)) == 1 and calls(sandbox, "drafts.create") == 1


def _older_version_was_creating(state_dir: Path, token: str) -> None:
    with Store(state_dir / "state.db") as store:
        store.save_extra(
            "note",
            OLD_KEY,
            {
                "stage": "creating",
                "delivery": "draft",
                "token": token,
                "search": "to:recruiter@example.com",
                "to": ["Sam Rivera <recruiter@example.com>"],
                "started_at": DUE,
            },
            datetime.fromisoformat(DUE),
        )


def test_a_draft_an_older_version_was_creating_is_still_found_by_its_token(
    draft_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    old = EmailMessage()
    old["To"] = "Sam Rivera <recruiter@example.com>"
    old["Subject"] = "Tomorrow"
    old["X-Aligner-Note"] = "1" * 32  # how older versions marked their draft
    old.set_content("Hi Sam\n")
    mailbox(sandbox).add_draft(old)
    _older_version_was_creating(state_dir, "1" * 32)
    result = draft_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "found the draft" in result.stdout
    assert calls(sandbox, "drafts.create") == 0 and len(aligner_drafts(sandbox)) == 1


def test_an_older_creating_intent_with_no_draft_creates_one_without_any_mark(
    draft_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    _older_version_was_creating(state_dir, "2" * 32)
    result = draft_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    [draft] = aligner_drafts(sandbox)
    assert draft["Message-ID"] == f"<{'2' * 32}@example.com>"
    no_aligner_anywhere(sandbox)
    sandbox.clear_log()
    assert "already drafted" in draft_note("apply", now=LATER).stdout
    assert calls(sandbox, "drafts.create") == 0


def test_a_lost_state_database_before_the_send_takes_up_the_waiting_draft(
    send_note: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    sandbox.inject("gmail.drafts.send", "status", status=503, retry_after=0)
    assert send_note("apply", now=DUE).exit_code == 1
    assert len(aligner_drafts(sandbox)) == 1 and sent(sandbox) == []
    lose_the_state_database(state_dir)
    result = send_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "found the draft" in result.stdout
    assert len(sent(sandbox)) == 1 and aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.create") == 1
    sandbox.clear_log()
    assert "already sent" in send_note("apply", now=LATER).stdout
    assert len(sandbox.requests("gmail", writes=True)) == 0
