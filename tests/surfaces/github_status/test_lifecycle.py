"""GitHub profile status end to end: the real CLI and the real HTTP client against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

from aligner.sandbox.github.service import GITHUB_TOKEN, LOGIN, ORGANIZATION
from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BEFORE, DURING, Aligner, flat
from tests.surfaces.github_status.helpers import (
    GITHUB_SECTION,
    ORIGINAL,
    THEMED,
    WINDOW_END,
    github_theme,
    writes,
)


def test_apply_in_window_sets_message_emoji_busy_and_expiry(gh: Aligner, sandbox: Sandbox) -> None:
    result = gh("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert sandbox.service("github").status(LOGIN) == {
        "message": THEMED,
        "emoji": ":rocket:",
        "expiresAt": WINDOW_END,
        "limited": True,
        "organization": None,
    }
    assert writes(sandbox) == 1


def test_second_apply_makes_no_writes_and_one_read(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    sandbox.clear_log()
    result = gh("apply", now=DURING)
    assert result.exit_code == 0
    assert writes(sandbox) == 0
    assert [r.operation for r in sandbox.requests("github")] == ["github.viewer"]
    assert "nothing to do" in result.output


def test_before_window_nothing_is_written(gh: Aligner, sandbox: Sandbox) -> None:
    assert gh("apply", now=BEFORE).exit_code == 0
    assert writes(sandbox) == 0
    assert sandbox.service("github").status(LOGIN) == ORIGINAL


def test_the_status_expires_on_github_at_window_end(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    sandbox.clock.pinned = sandbox.clock.pinned.replace(day=3, hour=19)  # window end, no run
    assert sandbox.service("github").status(LOGIN) is None


def test_after_window_restores_the_original(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    result = gh("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert sandbox.service("github").status(LOGIN) == ORIGINAL
    sandbox.clear_log()
    assert gh("apply", now=AFTER).exit_code == 0
    assert writes(sandbox) == 0


def test_revert_restores_now_and_stays_reverted(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    assert gh("revert", now=DURING).exit_code == 0
    assert sandbox.service("github").status(LOGIN) == ORIGINAL
    sandbox.clear_log()
    gh("apply", now=DURING)
    assert writes(sandbox) == 0


def test_no_original_status_is_cleared_with_an_empty_input(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("github").statuses[LOGIN] = None
    gh("apply", now=DURING)
    assert gh("revert", now=DURING).exit_code == 0
    assert sandbox.service("github").status(LOGIN) is None
    last = json.loads(sandbox.requests("github", "github.changeUserStatus")[-1].body)
    assert set(last["variables"]["input"]) == {"clientMutationId"}


def test_an_expired_status_needs_no_write_after_the_window(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("github").statuses[LOGIN] = None
    gh("apply", now=DURING)
    sandbox.clear_log()
    assert gh("apply", now=AFTER).exit_code == 0  # GitHub stopped showing it at window end
    assert writes(sandbox) == 0
    assert sandbox.service("github").status(LOGIN) is None


def test_a_status_set_by_hand_is_never_overwritten(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    sandbox.service("github").set_status(LOGIN, "Lunch", ":sandwich:")
    sandbox.clear_log()
    during = gh("apply", now=DURING)
    assert during.exit_code == 0
    assert "conflict" in during.output and "changed by hand" in during.output
    after = gh("apply", now=AFTER)
    assert after.exit_code == 0
    assert writes(sandbox) == 0
    assert sandbox.service("github").status(LOGIN)["message"] == "Lunch"


def test_force_reasserts_a_hand_edit(gh: Aligner, sandbox: Sandbox) -> None:
    gh("apply", now=DURING)
    sandbox.service("github").set_status(LOGIN, "Lunch", ":sandwich:")
    assert gh("apply", "--force", now=DURING).exit_code == 0
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED


def test_an_organization_status_is_limited_to_it_and_given_back(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    section = GITHUB_SECTION + f'organization = "{ORGANIZATION}"\n'
    gh = Aligner(env, github_theme(tmp_path, section=section), sandbox)
    result = gh("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert sandbox.service("github").status(LOGIN)["organization"] == ORGANIZATION
    assert f"visible to {ORGANIZATION} members only" in flat(result.output)
    sandbox.clear_log()
    assert gh("apply", now=DURING).exit_code == 0
    assert writes(sandbox) == 0
    assert gh("apply", now=AFTER).exit_code == 0
    assert sandbox.service("github").status(LOGIN) == ORIGINAL


def test_an_unknown_organization_fails_with_githubs_error(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    section = GITHUB_SECTION + 'organization = "no-such-org"\n'
    result = Aligner(env, github_theme(tmp_path, section=section), sandbox)("apply", now=DURING)
    assert result.exit_code == 1
    assert "no-such-org" in result.output and "NOT_FOUND" in result.output
    assert writes(sandbox) == 0
    assert sandbox.service("github").status(LOGIN) == ORIGINAL


def test_plan_writes_nothing_and_json_matches_apply(gh: Aligner, sandbox: Sandbox) -> None:
    result = gh("plan", "--json", now=DURING)
    assert result.exit_code == 0, result.output
    change = json.loads(result.stdout)["changes"][0]
    assert change["surface"] == "github"
    assert change["after"]["message"] == THEMED
    assert writes(sandbox) == 0
    applied = json.loads(gh("apply", "--json", now=DURING).stdout)
    assert applied["changes"] == [change]


def test_token_never_appears_in_output_or_state(
    gh: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    wrong = "ghp_wrongButStillSecret00000000000000"
    outputs = [gh(cmd, now=DURING) for cmd in ("plan", "apply", "status", "revert")]
    outputs.append(gh("--debug", "apply", now=DURING, ALIGNER_GITHUB_TOKEN=wrong))
    for result in outputs:
        assert GITHUB_TOKEN not in result.output and wrong not in result.output
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert GITHUB_TOKEN.encode() not in path.read_bytes()
            assert wrong.encode() not in path.read_bytes()


def test_loopback_calls_never_go_through_a_proxy(gh: Aligner, sandbox: Sandbox) -> None:
    dead = "http://127.0.0.1:9"
    result = gh("apply", now=DURING, HTTP_PROXY=dead, http_proxy=dead, NO_PROXY="", no_proxy="")
    assert result.exit_code == 0, result.output
    assert writes(sandbox) == 1
