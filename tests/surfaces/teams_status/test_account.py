"""`aligner doctor` and `aligner rehearse` for the Teams status message."""

from __future__ import annotations

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.microsoft.presence import PresenceService
from aligner.sandbox.server import Sandbox
from tests.cli.test_doctor import lines
from tests.conftest import Aligner, flat
from tests.surfaces.teams_status.helpers import ORIGINAL, THEMED


def test_doctor_reads_the_presence_once(teams: Aligner, sandbox: Sandbox) -> None:
    result = teams("doctor")
    assert result.exit_code == 0, result.output
    assert lines(result.output)["teams.presence"].startswith("✓")
    assert [r.operation for r in sandbox.requests("graph")] == ["presence.get"]
    assert GRAPH_TOKEN not in result.output


def test_doctor_calls_out_a_personal_account(teams: Aligner, service: PresenceService) -> None:
    service.directory.person.work_account = False
    result = teams("doctor")
    assert result.exit_code == 1
    line = lines(result.output)["teams.presence"]
    assert line.startswith("✗") and "personal Microsoft account" in line
    assert "work or school account" in line


def test_doctor_on_a_bad_token(teams: Aligner) -> None:
    result = teams("doctor", ALIGNER_MICROSOFT_ACCESS_TOKEN="not-a-token")
    assert result.exit_code == 1
    line = lines(result.output)["teams.presence"]
    assert line.startswith("✗") and "InvalidAuthenticationToken" in line


def test_rehearse_shows_the_teams_status(teams: Aligner) -> None:
    result = teams("rehearse")
    assert result.exit_code == 0, result.output
    assert f"✓ teams set status: “{ORIGINAL['content']}” → “{THEMED}”" in flat(result.output)
    row = next(line for line in result.output.splitlines() if line.startswith("Teams status"))
    assert row.endswith("✓ as before")
