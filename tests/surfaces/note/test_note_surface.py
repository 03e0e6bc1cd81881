"""The pre-interview note end to end: the real CLI and Google client against the sandbox."""

from __future__ import annotations

from email.header import decode_header
from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from aligner.vendors.google.scopes import GMAIL_COMPOSE
from tests.conftest import Aligner, flat
from tests.surfaces.note.note_helpers import (
    BEFORE_SEND,
    DUE,
    LATER,
    METRIC_TEXT,
    SIGNATURE_TEXT,
    STARTED,
    SUBJECT,
    aligner_drafts,
    calls,
    html_part,
    mailbox,
    note_draft_ids,
    note_theme,
    sent,
    text_part,
)


def gmail_writes(sandbox: Sandbox) -> int:
    return len(sandbox.requests("gmail", writes=True))


def test_nothing_before_send_at_and_plan_shows_the_whole_note(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    applied = draft_note("apply", now=BEFORE_SEND)
    assert applied.exit_code == 0, applied.output
    assert gmail_writes(sandbox) == 0
    assert aligner_drafts(sandbox) == [] and sent(sandbox) == []
    plan = draft_note("plan", now=BEFORE_SEND)
    assert plan.exit_code == 0, plan.output
    assert "will be drafted in Gmail at Wed 02 Dec 2026 18:00 PST" in plan.stdout
    for line in ("To: Sam Rivera <recruiter@example.com>", f"Subject: {SUBJECT}", "Hi Sam,"):
        assert line in plan.stdout
    assert METRIC_TEXT in plan.stdout and SIGNATURE_TEXT in plan.stdout


def test_after_send_at_exactly_one_draft_with_metric_and_signature(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    result = draft_note("apply", now=DUE)
    assert result.exit_code == 0, result.output
    [draft] = aligner_drafts(sandbox)
    assert sent(sandbox) == []
    assert str(draft["To"]) == "Sam Rivera <recruiter@example.com>"
    assert str(draft["From"]) == "alex@example.com"
    assert str(draft["Subject"]) == SUBJECT
    text = text_part(draft)
    assert METRIC_TEXT in text
    assert f"\n-- \n{SIGNATURE_TEXT}" in text
    html = html_part(draft)
    assert html is not None and SIGNATURE_TEXT in html and "gmail_signature" in html
    assert calls(sandbox, "drafts.create") == 1 and calls(sandbox, "drafts.send") == 0


def test_send_delivers_exactly_one_sent_message(send_note: Aligner, sandbox: Sandbox) -> None:
    result = send_note("apply", now=DUE)
    assert result.exit_code == 0, result.output
    [message] = sent(sandbox)
    assert aligner_drafts(sandbox) == []
    assert METRIC_TEXT in text_part(message) and SIGNATURE_TEXT in text_part(message)
    assert calls(sandbox, "drafts.create") == 1 and calls(sandbox, "drafts.send") == 1


def test_steady_state_makes_no_writes_and_one_read(draft_note: Aligner, sandbox: Sandbox) -> None:
    draft_note("apply", now=DUE)
    sandbox.clear_log()
    result = draft_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert gmail_writes(sandbox) == 0
    assert len(sandbox.requests("gmail")) == 1
    assert "already drafted" in result.stdout


def test_a_sent_note_needs_no_call_at_all(send_note: Aligner, sandbox: Sandbox) -> None:
    send_note("apply", now=DUE)
    sandbox.clear_log()
    result = send_note("apply", now=LATER)
    assert result.exit_code == 0
    assert sandbox.requests("gmail") == []
    assert "already sent" in result.stdout


def test_editing_the_note_after_delivery_does_not_deliver_again(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox
) -> None:
    first = Aligner(env, note_theme(tmp_path, "send"), sandbox)
    first("apply", now=DUE)
    assert len(sent(sandbox)) == 1
    sent_id = mailbox(sandbox).snapshot()["sent"][0]["id"]
    edited = Aligner(env, note_theme(tmp_path, "send", subject="Tomorrow, again"), sandbox)
    plan = edited("plan", now=LATER)
    assert plan.exit_code == 0
    assert "already sent Wed 02 Dec 2026 19:00 PST" in plan.stdout
    assert f"Gmail message {sent_id}" in flat(plan.stdout)
    assert "changed since and is not delivered again" in plan.stdout
    assert edited("apply", now=LATER).exit_code == 0
    assert len(sent(sandbox)) == 1 and calls(sandbox, "drafts.create") == 1


def test_a_draft_the_person_deleted_is_not_recreated(draft_note: Aligner, sandbox: Sandbox) -> None:
    draft_note("apply", now=DUE)
    box = mailbox(sandbox)
    [draft_id] = note_draft_ids(sandbox)
    box.delete_draft(draft_id)
    result = draft_note("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "not re-created" in result.stdout
    assert aligner_drafts(sandbox) == []
    assert calls(sandbox, "drafts.create") == 1


def test_after_the_interview_started_nothing_goes_and_it_is_reported_missed(
    send_note: Aligner, sandbox: Sandbox
) -> None:
    result = send_note("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "missed" in result.stdout
    assert gmail_writes(sandbox) == 0
    assert sent(sandbox) == [] and aligner_drafts(sandbox) == []


def test_a_body_without_a_metric_fails_validation(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox
) -> None:
    theme = note_theme(tmp_path, body="Hi Sam,\n\nExcited to chat tomorrow!\n")
    result = Aligner(env, theme, sandbox)("validate")
    assert result.exit_code == 2
    assert "note.body: references no metric" in result.stderr
    assert "a generic note is the mistake this step exists to avoid" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("to", "field"),
    [('["recruiter-at-example.com"]', "note.to[0]"), ("[]", "note.to")],
)
def test_bad_addresses_fail_validation(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox, to: str, field: str
) -> None:
    result = Aligner(env, note_theme(tmp_path, to=to), sandbox)("validate")
    assert result.exit_code == 2
    assert f"{field}: " in result.stderr


def test_a_non_ascii_subject_decodes_to_the_same_text(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox
) -> None:
    subject = "Demain : {{ theme.name }} — Zoë’s 数据 ✓"
    theme = note_theme(tmp_path, subject=subject, to='["Zoë Ångström <zoe@example.com>"]')
    assert Aligner(env, theme, sandbox)("apply", now=DUE).exit_code == 0
    [draft] = aligner_drafts(sandbox)
    assert str(draft["Subject"]) == "Demain : Optimizing inference pipelines — Zoë’s 数据 ✓"
    assert draft["To"].addresses[0].display_name == "Zoë Ångström"
    raw = bytes(draft)
    raw_subject = next(line for line in raw.split(b"\n") if line.startswith(b"Subject:"))
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject
    assert "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in decode_header(raw_subject.decode()[len("Subject: ") :])
    ).startswith("Demain : Optimizing")


def test_works_with_the_compose_scope_alone(
    draft_note: Aligner, sandbox: Sandbox, env: dict[str, str]
) -> None:
    sandbox.service("oauth").accounts.grant("ya29.compose-only", GMAIL_COMPOSE)
    result = draft_note("apply", now=DUE, ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.compose-only")
    assert result.exit_code == 0, result.output
    assert len(aligner_drafts(sandbox)) == 1
    assert all(r.status < 400 for r in sandbox.requests("gmail"))


def test_a_token_without_compose_fails_fast_naming_the_scope(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    readonly = "https://www.googleapis.com/auth/gmail.readonly"
    sandbox.service("oauth").accounts.grant("ya29.readonly", readonly)
    result = draft_note("apply", now=DUE, ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.readonly")
    assert result.exit_code == 1
    assert "gmail.compose" in result.output
    assert "ya29.readonly" not in result.output


def test_revert_deletes_the_unsent_draft(draft_note: Aligner, sandbox: Sandbox) -> None:
    draft_note("apply", now=DUE)
    result = draft_note("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "delete the unsent draft" in result.stdout
    assert aligner_drafts(sandbox) == []
    assert len(mailbox(sandbox).drafts) == 1  # the person's own draft is untouched
    sandbox.clear_log()
    assert draft_note("apply", now=LATER).exit_code == 0
    assert gmail_writes(sandbox) == 0


def test_revert_leaves_a_draft_edited_by_hand(draft_note: Aligner, sandbox: Sandbox) -> None:
    draft_note("apply", now=DUE)
    box = mailbox(sandbox)
    [draft_id] = note_draft_ids(sandbox)
    box.edit_draft(draft_id, "Hi Sam, my own words now.\n")
    result = draft_note("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "edited by hand" in result.stdout
    assert draft_id in box.drafts
    assert calls(sandbox, "drafts.delete") == 0


def test_revert_says_a_sent_note_cannot_be_unsent(send_note: Aligner, sandbox: Sandbox) -> None:
    send_note("apply", now=DUE)
    result = send_note("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "cannot be unsent" in result.stdout
    assert len(sent(sandbox)) == 1


def test_a_reverted_theme_delivers_nothing(send_note: Aligner, sandbox: Sandbox) -> None:
    assert send_note("revert", now=BEFORE_SEND).exit_code == 0
    result = send_note("apply", now=DUE)
    assert result.exit_code == 0
    assert "gives back and sets nothing" in result.stdout
    assert gmail_writes(sandbox) == 0
    assert "not delivered while aligner is reverted" in send_note("plan", now=DUE).stdout


def test_plan_json_carries_the_note(send_note: Aligner) -> None:
    import json

    body = json.loads(send_note("plan", "--json", now=DUE).stdout)
    [change] = [c for c in body["changes"] if c["surface"] == "note"]
    assert change["action"] == "send"
    assert change["after"]["subject"] == SUBJECT
    assert METRIC_TEXT in change["after"]["text"]


def test_renaming_the_theme_id_does_not_deliver_the_note_again(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    theme = note_theme(tmp_path, "send")
    first = Aligner(env, theme, sandbox)("apply", now=DUE)
    assert first.exit_code == 0, first.output
    theme.write_text(
        theme.read_text(encoding="utf-8").replace('id = "inference"', 'id = "renamed"'),
        encoding="utf-8",
    )
    again = Aligner(env, theme, sandbox)("apply", now=DUE)
    assert again.exit_code == 0, again.output
    assert "already sent" in again.output
    assert calls(sandbox, "drafts.send") == 1
