"""The pre-interview note from Outlook, end to end: the real CLI and Graph client (httpx) against
the sandbox's Outlook mailbox, with the same exactly-once rules as Gmail's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner, flat
from tests.surfaces.note.note_helpers import (
    BEFORE_SEND,
    DUE,
    LATER,
    METRIC_TEXT,
    SIGNATURE_TEXT,
    STARTED,
    SUBJECT,
)
from tests.surfaces.note_outlook.helpers import (
    RECRUITER,
    calls,
    delivered,
    mail_requests,
    mail_writes,
    note_drafts,
    outlook,
    outlook_theme,
    sent_items,
    statuses,
)


def test_nothing_before_send_at_and_plan_shows_the_whole_note(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    applied = outlook_draft("apply", now=BEFORE_SEND)
    assert applied.exit_code == 0, applied.output
    assert mail_writes(sandbox) == 0 and note_drafts(sandbox) == []
    plan = outlook_draft("plan", now=BEFORE_SEND)
    assert plan.exit_code == 0, plan.output
    assert "will be drafted in Outlook at Wed 02 Dec 2026 18:00 PST" in plan.stdout
    for line in ("To: Sam Rivera <recruiter@example.com>", f"Subject: {SUBJECT}", "Hi Sam,"):
        assert line in plan.stdout
    assert METRIC_TEXT in plan.stdout and SIGNATURE_TEXT in plan.stdout


def test_plan_json_says_the_note_will_be_drafted(outlook_draft: Aligner) -> None:
    body = json.loads(outlook_draft("plan", "--json", now=DUE).stdout)
    [change] = [c for c in body["changes"] if c["surface"] == "note"]
    assert change["action"] == "draft"
    assert change["after"]["subject"] == SUBJECT
    assert 'id="Signature"' in change["after"]["html"]  # Outlook's own signature block


def test_after_send_at_exactly_one_draft_with_metric_and_signature(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    result = outlook_draft("apply", now=DUE)
    assert result.exit_code == 0, result.output
    assert "waits in Outlook Drafts for you" in flat(result.stdout)
    [draft] = note_drafts(sandbox)
    fields = draft.fields
    assert fields["isDraft"] is True and fields["subject"] == SUBJECT
    assert fields["toRecipients"] == [
        {"emailAddress": {"name": "Sam Rivera", "address": RECRUITER}}
    ]
    assert fields["body"]["contentType"] == "html"
    assert METRIC_TEXT in fields["body"]["content"]
    assert SIGNATURE_TEXT in fields["body"]["content"]
    assert delivered(sandbox) == [] and sent_items(sandbox) == []
    assert calls(sandbox, "create") == 1 and calls(sandbox, "send") == 0
    assert sandbox.requests("gmail") == []  # the Gmail mailbox is not touched


def test_without_the_signature_the_body_is_plain_text(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox
) -> None:
    theme = outlook_theme(tmp_path, "draft", include_signature=False)
    assert Aligner(env, theme, sandbox)("apply", now=DUE).exit_code == 0
    [draft] = note_drafts(sandbox)
    assert draft.fields["body"]["contentType"] == "text"
    assert METRIC_TEXT in draft.fields["body"]["content"]


def test_send_delivers_exactly_one_message(outlook_send: Aligner, sandbox: Sandbox) -> None:
    result = outlook_send("apply", now=DUE)
    assert result.exit_code == 0, result.output
    [received] = delivered(sandbox)
    assert received["recipients"] == [RECRUITER]
    assert METRIC_TEXT in received["body"] and SIGNATURE_TEXT in received["body"]
    [copy] = sent_items(sandbox)
    assert copy.fields["isDraft"] is False and note_drafts(sandbox) == []
    assert calls(sandbox, "create") == 1 and calls(sandbox, "send") == 1
    assert statuses(sandbox, "send") == [202]


def test_a_converged_second_apply_writes_nothing(outlook_draft: Aligner, sandbox: Sandbox) -> None:
    outlook_draft("apply", now=DUE)
    sandbox.clear_log()
    result = outlook_draft("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "already drafted" in result.stdout and "waiting in your Drafts" in flat(result.stdout)
    assert mail_writes(sandbox) == 0
    assert mail_requests(sandbox) == 1  # one read: is the draft still there, unedited?


def test_a_sent_note_needs_no_call_at_all(outlook_send: Aligner, sandbox: Sandbox) -> None:
    outlook_send("apply", now=DUE)
    sandbox.clear_log()
    result = outlook_send("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "already sent" in result.stdout and "in your Outlook Sent Items" in flat(result.stdout)
    assert mail_requests(sandbox) == 0
    assert len(delivered(sandbox)) == 1


def test_after_the_interview_started_nothing_goes_and_it_is_reported_missed(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    result = outlook_send("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "missed" in result.stdout
    assert mail_writes(sandbox) == 0 and delivered(sandbox) == []


def test_a_draft_not_yet_sent_when_the_interview_starts_is_missed_not_sent(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.send", "status", status=503, retry_after=0)
    assert outlook_send("apply", now=DUE).exit_code == 1
    result = outlook_send("apply", now=STARTED)
    assert result.exit_code == 0, result.output
    assert "missed" in result.stdout and "in your Drafts" in flat(result.stdout)
    assert delivered(sandbox) == [] and calls(sandbox, "send") == 1


def test_a_draft_the_person_deleted_is_not_recreated(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    outlook_draft("apply", now=DUE)
    [draft] = note_drafts(sandbox)
    outlook(sandbox).delete_draft(draft.id)
    result = outlook_draft("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "not re-created" in result.stdout
    assert note_drafts(sandbox) == [] and calls(sandbox, "create") == 1


def test_a_draft_the_person_sent_is_not_sent_again(outlook_send: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("messages.send", "status", status=503, retry_after=0)
    assert outlook_send("apply", now=DUE).exit_code == 1
    [draft] = note_drafts(sandbox)
    outlook(sandbox).send_draft(draft.id)  # the person clicked Send in Outlook meanwhile
    result = outlook_send("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert len(delivered(sandbox)) == 1 and statuses(sandbox, "send") == [503]


def test_revert_deletes_the_unsent_draft_and_leaves_the_persons_own(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    outlook_draft("apply", now=DUE)
    result = outlook_draft("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "delete the unsent draft" in result.stdout
    assert note_drafts(sandbox) == []
    assert len(outlook(sandbox).drafts()) == 1  # the person's own draft is untouched
    assert statuses(sandbox, "delete") == [204]


def test_revert_leaves_a_draft_edited_by_hand(outlook_draft: Aligner, sandbox: Sandbox) -> None:
    outlook_draft("apply", now=DUE)
    [draft] = note_drafts(sandbox)
    outlook(sandbox).edit_draft(draft.id, "Hi Sam, my own words now.\n")
    result = outlook_draft("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "edited by hand" in result.stdout
    assert [d.id for d in note_drafts(sandbox)] == [draft.id]
    assert calls(sandbox, "delete") == 0


def test_revert_says_a_sent_note_cannot_be_unsent(outlook_send: Aligner, sandbox: Sandbox) -> None:
    outlook_send("apply", now=DUE)
    result = outlook_send("revert", now=LATER)
    assert result.exit_code == 0, result.output
    assert "cannot be unsent" in result.stdout
    assert len(delivered(sandbox)) == 1


# -- auth, permissions and rate limits ---------------------------------------------------------


def test_a_rejected_token_fails_fast_in_one_line(outlook_draft: Aligner, sandbox: Sandbox) -> None:
    result = outlook_draft("apply", now=DUE, ALIGNER_MICROSOFT_ACCESS_TOKEN="not-a-token")
    assert result.exit_code == 1
    said = flat(result.stdout)
    assert said.count("✗") == 1  # one (folded) line for the failed surface
    assert "Microsoft Graph rejected the token (401 InvalidAuthenticationToken" in said
    assert "aligner auth microsoft" in said
    assert "not-a-token" not in result.output and "Traceback" not in result.output
    assert statuses(sandbox, "create") == [401]  # asked once, not retried
    assert note_drafts(sandbox) == []


def test_a_missing_mail_send_permission_is_named_and_the_draft_is_sent_once_later(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    outlook(sandbox).directory.grant("draft-only", "Mail.ReadWrite")
    first = outlook_send("apply", now=DUE, ALIGNER_MICROSOFT_ACCESS_TOKEN="draft-only")
    assert first.exit_code == 1
    assert "lacks the Mail.Send permission" in flat(first.output)
    assert "403 ErrorAccessDenied" in flat(first.output)
    assert "draft-only" not in first.output
    assert len(note_drafts(sandbox)) == 1 and delivered(sandbox) == []
    second = outlook_send("apply", now=LATER)  # consent given: the usual token
    assert second.exit_code == 0, second.output
    assert len(delivered(sandbox)) == 1
    assert calls(sandbox, "create") == 1 and statuses(sandbox, "send") == [403, 202]


def test_a_token_without_mail_permissions_names_mail_read_write(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    outlook(sandbox).directory.grant("no-mail", "offline_access")
    result = outlook_draft("apply", now=DUE, ALIGNER_MICROSOFT_ACCESS_TOKEN="no-mail")
    assert result.exit_code == 1
    assert "lacks the Mail.ReadWrite permission" in flat(result.output)
    assert note_drafts(sandbox) == []


def test_drafting_needs_mail_read_write_only(outlook_draft: Aligner, sandbox: Sandbox) -> None:
    outlook(sandbox).directory.grant("read-write", "Mail.ReadWrite")
    result = outlook_draft("apply", now=DUE, ALIGNER_MICROSOFT_ACCESS_TOKEN="read-write")
    assert result.exit_code == 0, result.output
    assert len(note_drafts(sandbox)) == 1


def test_a_429_on_a_read_is_waited_out_within_the_cap(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    outlook_draft("apply", now=DUE)
    sandbox.clear_log()
    sandbox.inject("messages.get", "status", status=429, retry_after=1)
    result = outlook_draft("apply", now=LATER, ALIGNER_RETRY_CAP="5")
    assert result.exit_code == 0, result.output
    assert statuses(sandbox, "get") == [429, 200]


def test_a_503_past_the_cap_fails_the_run_in_one_line(
    outlook_draft: Aligner, sandbox: Sandbox
) -> None:
    outlook_draft("apply", now=DUE)
    sandbox.clear_log()
    sandbox.inject("messages.get", "status", status=503, retry_after=100)
    result = outlook_draft("apply", now=LATER, ALIGNER_RETRY_CAP="1")
    assert result.exit_code == 1
    assert "the next run will try again" in flat(result.output)
    assert statuses(sandbox, "get") == [503]


def test_a_503_on_send_is_not_repeated_in_the_run_and_goes_once_later(
    outlook_send: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("messages.send", "status", status=503, retry_after=0)
    assert outlook_send("apply", now=DUE).exit_code == 1
    assert delivered(sandbox) == [] and len(note_drafts(sandbox)) == 1
    assert outlook_send("apply", now=LATER).exit_code == 0
    assert len(delivered(sandbox)) == 1 and statuses(sandbox, "send") == [503, 202]


@pytest.mark.parametrize(("delivery", "scopes"), [("draft", 1), ("send", 2)])
def test_doctor_checks_the_outlook_mailbox(
    tmp_path: Path, env: dict[str, str], sandbox: Sandbox, delivery: str, scopes: int
) -> None:
    from aligner.surfaces.note.surface import InterviewNote
    from aligner.theme.validation import load_theme

    theme = outlook_theme(tmp_path, delivery)
    config = load_theme(theme).config
    assert InterviewNote.account(config).name == "microsoft"
    assert InterviewNote.needed_scopes(config) == ("Mail.ReadWrite", "Mail.Send")[:scopes]
    result = Aligner(env, theme, sandbox)("doctor", now=DUE)
    assert "Outlook mailbox reachable" in result.output, result.output
    assert "Outlook signatures cannot be themed" in flat(result.output)
    assert sandbox.requests("gmail") == []


def test_the_sandbox_token_is_the_one_in_the_environment(env: dict[str, str]) -> None:
    assert env["ALIGNER_MICROSOFT_ACCESS_TOKEN"] == GRAPH_TOKEN


def test_a_note_started_in_gmail_is_not_finished_in_outlook(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    from tests.surfaces.note.note_helpers import aligner_drafts, note_theme

    sandbox.inject("gmail.drafts.send", "status", status=503, retry_after=0)
    gmail = Aligner(env, note_theme(tmp_path, "send"), sandbox)
    assert gmail("apply", now=DUE).exit_code == 1  # a Gmail draft waits, unsent
    switched = Aligner(env, outlook_theme(tmp_path, "send"), sandbox)  # the same file, edited
    result = switched("apply", now=LATER)
    assert result.exit_code == 0, result.output
    said = flat(result.stdout)
    assert "the note was started in Gmail" in said and "nothing is done in either" in said
    assert mail_requests(sandbox) == 0 and delivered(sandbox) == []
    assert len(aligner_drafts(sandbox)) == 1


def test_a_note_drafted_in_outlook_is_not_drafted_again_in_gmail(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, outlook_draft: Aligner
) -> None:
    from tests.surfaces.note.note_helpers import note_theme

    assert outlook_draft("apply", now=DUE).exit_code == 0
    sandbox.clear_log()
    gmail = Aligner(env, note_theme(tmp_path, "draft"), sandbox)
    result = gmail("apply", now=LATER)
    assert result.exit_code == 0, result.output
    assert "the note was drafted in Outlook" in flat(result.stdout)
    assert sandbox.requests("gmail", writes=True) == [] and mail_requests(sandbox) == 0
    reverted = gmail("revert", now=LATER)
    assert reverted.exit_code == 0 and len(note_drafts(sandbox)) == 1


def test_a_note_outlook_refused_to_draft_can_go_through_gmail_instead(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    from tests.surfaces.note.note_helpers import aligner_drafts, note_theme

    outlook(sandbox).directory.grant("no-mail", "offline_access")
    refused = Aligner(env, outlook_theme(tmp_path, "draft"), sandbox)
    result = refused("apply", now=DUE, ALIGNER_MICROSOFT_ACCESS_TOKEN="no-mail")
    assert result.exit_code == 1  # refused with an answer: nothing was made anywhere
    gmail = Aligner(env, note_theme(tmp_path, "draft"), sandbox)
    assert gmail("apply", now=LATER).exit_code == 0
    assert len(aligner_drafts(sandbox)) == 1
    again = gmail("apply", now=LATER)
    assert again.exit_code == 0 and "already drafted" in again.stdout


def test_no_microsoft_credentials_say_how_to_sign_in(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    bare = {k: v for k, v in env.items() if k != "ALIGNER_MICROSOFT_ACCESS_TOKEN"}
    result = Aligner(bare, outlook_theme(tmp_path, "draft"), sandbox)("apply", now=DUE)
    assert result.exit_code == 1
    assert "no Microsoft credentials: run `aligner auth microsoft`" in flat(result.output)
    assert mail_requests(sandbox) == 0
