"""Slack status end to end: the real CLI and the real slack-sdk against the sandbox."""

from __future__ import annotations

import json
import time
from pathlib import Path

from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BEFORE, DURING, USER_ID, WINDOW_END_TS, Aligner

THEMED = "Optimizing inference pipelines: 28 ms → 19 ms (−32%)"


def slack_writes(sandbox: Sandbox) -> int:
    return len(sandbox.requests("slack", "users.profile.set"))


def test_apply_in_window_sets_text_emoji_and_expiry(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    status = sandbox.service("slack").status(USER_ID)
    assert status == {
        "status_text": THEMED,
        "status_emoji": ":rocket:",
        "status_expiration": WINDOW_END_TS,
    }


def test_second_apply_makes_no_writes_and_one_read(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    sandbox.clear_log()
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0
    assert slack_writes(sandbox) == 0
    assert len(sandbox.requests("slack")) == 1
    assert "nothing to do" in result.output


def test_before_window_nothing_happens(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0
    assert slack_writes(sandbox) == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Working from home"


def test_after_window_restores_the_original(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    result = aligner("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert sandbox.service("slack").status(USER_ID) == {
        "status_text": "Working from home",
        "status_emoji": ":house_with_garden:",
        "status_expiration": 0,
    }
    sandbox.clear_log()
    assert aligner("apply", now=AFTER).exit_code == 0
    assert slack_writes(sandbox) == 0


def test_revert_restores_now_and_stays_reverted(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    result = aligner("revert", now=DURING)
    assert result.exit_code == 0, result.output
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Working from home"
    sandbox.clear_log()
    aligner("apply", now=DURING)
    assert slack_writes(sandbox) == 0


def test_a_status_set_by_hand_is_never_overwritten(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    sandbox.service("slack").set_status(USER_ID, "Lunch", ":sandwich:")
    sandbox.clear_log()
    during = aligner("apply", now=DURING)
    assert during.exit_code == 0
    assert "conflict" in during.output and "changed by hand" in during.output
    after = aligner("apply", now=AFTER)
    assert after.exit_code == 0
    assert slack_writes(sandbox) == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Lunch"


def test_force_reasserts_a_hand_edit(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    sandbox.service("slack").set_status(USER_ID, "Lunch", ":sandwich:")
    assert aligner("apply", "--force", now=DURING).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED


def test_rate_limit_with_retry_after_is_retried(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("users.profile.set", "status", status=429, retry_after=0)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert slack_writes(sandbox) == 2
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED


def test_server_error_is_retried(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("users.profile.set", "status", status=503)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert [r.status for r in sandbox.requests("slack", "users.profile.set")] == [503, 200]


def test_dropped_connection_after_commit_converges(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("users.profile.set", "drop")
    assert aligner("apply", now=DURING).exit_code == 0
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0
    assert slack_writes(sandbox) == 0


def test_invalid_auth_fails_fast_with_what_to_do(aligner: Aligner, sandbox: Sandbox) -> None:
    started = time.monotonic()
    result = aligner("apply", now=DURING, ALIGNER_SLACK_TOKEN="xoxp-wrong")
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "invalid_auth" in result.stderr + result.stdout
    assert "ALIGNER_SLACK_TOKEN" in result.stderr + result.stdout
    assert "Traceback" not in result.output


def test_missing_scope_names_the_scope(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("slack").add_user("xoxp-readonly", USER_ID, scopes=("users.profile:read",))
    result = aligner("apply", now=DURING, ALIGNER_SLACK_TOKEN="xoxp-readonly")
    assert result.exit_code == 1
    assert "users.profile:write" in result.output


def test_missing_token_is_a_clear_failure(env: dict[str, str], theme: Path) -> None:
    env = {k: v for k, v in env.items() if k != "ALIGNER_SLACK_TOKEN"}
    result = Aligner(env, theme)("apply", now=DURING)
    assert result.exit_code == 1
    assert "ALIGNER_SLACK_TOKEN" in result.output


def test_plan_writes_nothing_and_json_matches_apply(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("plan", "--json", now=DURING)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["phase"] == "during"
    assert body["changes"][0]["surface"] == "slack"
    assert body["changes"][0]["after"]["text"] == THEMED
    assert slack_writes(sandbox) == 0
    applied = json.loads(aligner("apply", "--json", now=DURING).stdout)
    assert applied["changes"] == body["changes"]


def test_plan_detailed_exitcode(aligner: Aligner) -> None:
    assert aligner("plan", "--detailed-exitcode", now=DURING).exit_code == 3
    aligner("apply", now=DURING)
    assert aligner("plan", "--detailed-exitcode", now=DURING).exit_code == 0


def test_plan_at_previews_another_moment(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("plan", "--at", "-2h", now=BEFORE)
    assert result.exit_code == 0
    assert "phase: during" in result.stdout
    assert THEMED in result.stdout
    assert slack_writes(sandbox) == 0


def test_dry_run_is_plan(aligner: Aligner, sandbox: Sandbox) -> None:
    dry = aligner("apply", "--dry-run", now=DURING)
    plan = aligner("plan", now=DURING)
    assert dry.stdout == plan.stdout
    assert slack_writes(sandbox) == 0


def test_quiet_apply_is_silent_when_nothing_changed(aligner: Aligner) -> None:
    assert aligner("apply", "--dry-run", "--quiet", now=DURING).stdout != ""
    assert aligner("apply", "--quiet", now=DURING).stdout != ""
    assert aligner("apply", "--dry-run", "--quiet", now=DURING).output == ""
    second = aligner("apply", "--quiet", now=DURING)
    assert second.exit_code == 0
    assert second.stdout == ""


def test_token_never_appears_in_output_or_state(
    aligner: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    token = aligner.env["ALIGNER_SLACK_TOKEN"]
    outputs = [aligner(cmd, now=DURING) for cmd in ("plan", "apply", "status", "revert")]
    outputs.append(aligner("apply", now=DURING, ALIGNER_SLACK_TOKEN="xoxp-wrong-but-secret"))
    for result in outputs:
        assert token not in result.output
        assert "xoxp-wrong-but-secret" not in result.output
    for path in state_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert token.encode() not in content
            assert b"xoxp-wrong-but-secret" not in content


def test_a_failed_first_write_is_retried_not_called_a_hand_edit(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("users.profile.set", "status", status=400)
    assert aligner("apply", now=DURING).exit_code == 1
    retry = aligner("apply", now=DURING)
    assert retry.exit_code == 0, retry.output
    assert "conflict" not in retry.output
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED
    assert aligner("apply", now=AFTER).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Working from home"


def test_a_lost_answer_to_the_first_write_is_adopted(aligner: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("users.profile.set", "drop", times=5)  # every retry's answer is lost too
    assert aligner("apply", now=DURING).exit_code == 1
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED
    sandbox.clear_log()
    assert aligner("apply", now=DURING).exit_code == 0
    assert slack_writes(sandbox) == 0
    assert aligner("apply", now=AFTER).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "Working from home"


def test_a_revert_is_visible_until_the_theme_changes(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    reverted = aligner("revert", now=DURING)
    assert reverted.stdout.startswith("Revert at")
    assert "Reverted at" in aligner("plan", now=DURING).stdout
    assert json.loads(aligner("plan", "--json", now=DURING).stdout)["reverted_at"]
    assert "Reverted at" in aligner("status", now=DURING).stdout
    edited = aligner.config.read_text(encoding="utf-8").replace(
        'status_emoji = ":rocket:"', 'status_emoji = ":zap:"'
    )
    aligner.config.write_text(edited, encoding="utf-8")  # editing the theme re-arms aligner
    plan = json.loads(aligner("plan", "--json", now=DURING).stdout)
    assert plan["reverted_at"] is None
    assert [c["action"] for c in plan["changes"]] == ["set"]


def test_an_edit_after_a_failed_first_write_becomes_the_original(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("users.profile.set", "status", status=400)
    assert aligner("apply", now=DURING).exit_code == 1
    sandbox.service("slack").set_status(USER_ID, "On vacation", ":palm_tree:")
    assert aligner("apply", now=DURING).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED
    assert aligner("apply", now=AFTER).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"] == "On vacation"


def test_resume_lifts_a_revert_without_a_theme_edit(aligner: Aligner, sandbox: Sandbox) -> None:
    aligner("apply", now=DURING)
    aligner("revert", now=DURING)
    aligner.config.touch()  # neither touching the file nor a comment lifts it
    aligner.config.write_text(aligner.config.read_text() + "\n# a comment\n")
    assert "until `aligner resume`" in aligner("status", now=DURING).stdout
    sandbox.clear_log()
    resumed = aligner("resume", now=DURING)
    assert resumed.exit_code == 0
    assert resumed.stdout.startswith("Resumed: the revert of Wed 02 Dec 2026 12:00 PST is lifted")
    assert slack_writes(sandbox) == 0  # resume itself writes nothing
    assert "Reverted at" not in aligner("status", now=DURING).stdout
    assert aligner("apply", now=DURING).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_text"].startswith("Optimizing")
    again = aligner("resume", now=DURING)
    assert again.exit_code == 0 and again.stdout == "No revert is in force: nothing to resume.\n"
