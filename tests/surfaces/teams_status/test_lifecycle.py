"""Teams status message end to end: the real CLI and the real HTTP client against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.microsoft.presence import PresenceService
from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, BEFORE, DURING, Aligner, flat
from tests.surfaces.teams_status.helpers import (
    ORIGINAL,
    TEAMS_SECTION,
    THEMED,
    WINDOW_END,
    sent,
    teams_theme,
    writes,
)


def test_plan_shows_the_change_and_writes_nothing(teams: Aligner, sandbox: Sandbox) -> None:
    result = teams("plan", "--json", now=DURING)
    assert result.exit_code == 0, result.output
    change = json.loads(result.stdout)["changes"][0]
    assert change["surface"] == "teams"
    assert change["after"] == {"message": THEMED, "expires_at": "2026-12-03T19:00:00Z"}
    assert writes(sandbox) == 0
    text = teams("plan", now=DURING)
    assert "Teams status" in text.output and "Working from the Lisbon office" in text.output
    applied = json.loads(teams("apply", "--json", now=DURING).stdout)
    assert applied["changes"] == [change]


def test_apply_sets_the_message_with_its_expiry(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    result = teams("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert service.status() == {"content": THEMED, "expires": WINDOW_END}
    assert writes(sandbox) == 1
    assert sent(sandbox) == {
        "statusMessage": {
            "message": {"content": THEMED, "contentType": "text"},
            "expiryDateTime": {"dateTime": "2026-12-03T19:00:00", "timeZone": "UTC"},
        }
    }
    write = sandbox.requests("graph", "presence.setStatusMessage")[0]
    assert write.method == "POST" and write.path == "/graph/v1.0/me/presence/setStatusMessage"


def test_a_converged_second_apply_makes_no_writes_and_one_read(
    teams: Aligner, sandbox: Sandbox
) -> None:
    teams("apply", now=DURING)
    sandbox.clear_log()
    result = teams("apply", now=DURING)
    assert result.exit_code == 0
    assert writes(sandbox) == 0
    assert [r.operation for r in sandbox.requests("graph")] == ["presence.get"]
    assert "nothing to do" in result.output


def test_before_the_window_nothing_is_read_or_written(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    assert teams("apply", now=BEFORE).exit_code == 0
    assert sandbox.requests("graph") == []
    assert service.status() == ORIGINAL


def test_the_message_expires_in_teams_at_window_end(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    teams("apply", now=DURING)
    sandbox.clock.pinned = datetime(2026, 12, 3, 19, tzinfo=UTC)  # window end, no run
    assert service.status() is None


def test_after_the_window_the_original_is_restored_then_nothing_is_called(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    teams("apply", now=DURING)
    result = teams("apply", now=AFTER)
    assert result.exit_code == 0, result.output
    assert service.status() == ORIGINAL
    assert sent(sandbox) == {
        "statusMessage": {
            "message": {"content": ORIGINAL["content"], "contentType": "text"},
        }
    }
    sandbox.clear_log()
    assert teams("apply", now=AFTER).exit_code == 0
    assert sandbox.requests("graph") == []  # given back: not even a read


def test_an_original_expiry_still_ahead_is_restored_with_it(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    service.set_message("On call this week", datetime(2026, 12, 10, 17, tzinfo=UTC))
    teams("apply", now=DURING)
    assert teams("apply", now=AFTER).exit_code == 0
    assert service.status() == {
        "content": "On call this week",
        "expires": "2026-12-10T17:00:00+00:00",
    }
    assert sent(sandbox)["statusMessage"]["expiryDateTime"] == {
        "dateTime": "2026-12-10T17:00:00",
        "timeZone": "UTC",
    }


def test_an_original_that_expired_during_the_window_is_not_brought_back(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    service.set_message("Back on Thursday", datetime(2026, 12, 3, 8, tzinfo=UTC))
    teams("apply", now=DURING)
    assert teams("apply", now=AFTER).exit_code == 0
    assert writes(sandbox) == 1  # only the themed message: Teams already shows none
    assert service.status() is None


def test_no_original_is_given_back_as_an_empty_message(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    service.set_message("")
    teams("apply", now=DURING)
    assert teams("revert", now=DURING).exit_code == 0
    assert service.status() is None
    assert sent(sandbox) == {"statusMessage": {"message": {"content": "", "contentType": "text"}}}


def test_revert_restores_now_and_stays_reverted(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    teams("apply", now=DURING)
    assert teams("revert", now=DURING).exit_code == 0
    assert service.status() == ORIGINAL
    sandbox.clear_log()
    teams("apply", now=DURING)
    assert writes(sandbox) == 0


def test_a_hand_edit_during_the_window_is_left_alone_and_reported(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    teams("apply", now=DURING)
    service.set_message("At lunch, back at 1")
    sandbox.clear_log()
    during = teams("apply", now=DURING)
    assert during.exit_code == 0
    assert "conflict" in during.output and "changed by hand" in during.output
    assert "At lunch, back at 1" in during.output
    after = teams("apply", now=AFTER)
    assert after.exit_code == 0
    assert writes(sandbox) == 0
    assert service.status() == {"content": "At lunch, back at 1", "expires": None}


def test_force_reasserts_a_hand_edit(teams: Aligner, service: PresenceService) -> None:
    teams("apply", now=DURING)
    service.set_message("At lunch, back at 1")
    assert teams("apply", "--force", now=DURING).exit_code == 0
    assert service.status() == {"content": THEMED, "expires": WINDOW_END}


def test_the_account_id_is_the_presence_id_from_the_one_read(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    teams("apply", now=DURING)
    assert [r.operation for r in sandbox.requests("graph")] == [
        "presence.get",  # the plan's read (its `id` is the account: no extra call; fresh, so
        "presence.setStatusMessage",  # the write relies on it)
    ]
    service.directory.person.id = "00000000-0000-0000-0000-00000000beef"  # another user
    result = teams("apply", now=DURING)
    assert result.exit_code == 1
    assert "the account changed" in flat(result.output)
    assert "Microsoft 365 user 00000000-0000-0000-0000-00000000beef" in flat(result.output)
    assert writes(sandbox) == 1  # nothing written for the other user


def test_the_token_never_appears_in_output_or_state(
    teams: Aligner, sandbox: Sandbox, state_dir: Path
) -> None:
    wrong = "eyJ0eXAiOiJKV1QifQ.wrong-but-still-secret"
    outputs = [teams(cmd, now=DURING) for cmd in ("plan", "apply", "status", "revert")]
    outputs.append(teams("--debug", "apply", now=DURING, ALIGNER_MICROSOFT_ACCESS_TOKEN=wrong))
    for result in outputs:
        assert GRAPH_TOKEN not in result.output and wrong not in result.output
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert GRAPH_TOKEN.encode() not in path.read_bytes()
            assert wrong.encode() not in path.read_bytes()


def test_slack_and_teams_status_side_by_side_know_nothing_of_each_other(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, service: PresenceService
) -> None:
    from tests.conftest import SLACK_SECTION, USER_ID

    both = TEAMS_SECTION.replace("[slack]\nenabled = false\n", "") + SLACK_SECTION
    mixed = Aligner(env, teams_theme(tmp_path, section=both), sandbox)
    result = mixed("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert service.status() == {"content": THEMED, "expires": WINDOW_END}
    assert sandbox.service("slack").status(USER_ID)["status_text"] == THEMED
    assert mixed("apply", now=AFTER).exit_code == 0
    assert service.status() == ORIGINAL


def test_the_timeline_shows_when_the_message_is_set_and_given_back(teams: Aligner) -> None:
    result = teams("timeline")
    assert result.exit_code == 0, result.output
    assert "Teams status message set" in result.output
    assert "Teams status message expires; original restored" in flat(result.output)
