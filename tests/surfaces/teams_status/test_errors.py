"""How Graph's refusals reach the person: fast for credentials and personal accounts, patient
(within ALIGNER_RETRY_CAP) for throttling, and a lost answer is never written twice."""

from __future__ import annotations

import pytest

from aligner.sandbox.microsoft.common import GRAPH_TOKEN
from aligner.sandbox.microsoft.presence import PresenceService
from aligner.sandbox.server import Sandbox
from tests.conftest import AFTER, DURING, Aligner, flat
from tests.surfaces.teams_status.helpers import ORIGINAL, SET, THEMED, writes


def one_line(output: str) -> str:
    """The failure line aligner printed for the surface (it must be there, and once)."""
    found = [line for line in output.splitlines() if "Microsoft" in line or "Graph" in line]
    assert found, output
    return flat(output)


def test_a_bad_token_fails_fast_with_what_to_do(teams: Aligner, sandbox: Sandbox) -> None:
    wrong = "eyJ0eXAiOiJKV1QifQ.not-a-token-graph-knows"
    result = teams("apply", now=DURING, ALIGNER_MICROSOFT_ACCESS_TOKEN=wrong)
    assert result.exit_code == 1
    line = one_line(result.output)
    assert "401 InvalidAuthenticationToken" in line and "aligner auth microsoft" in line
    assert wrong not in result.output and "Traceback" not in result.output
    assert len(sandbox.requests("graph")) == 1  # no retry


def test_a_missing_permission_fails_fast_naming_what_to_do(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    service.directory.revoke(GRAPH_TOKEN, "Presence.ReadWrite")
    service.directory.grant(GRAPH_TOKEN, "Presence.Read")  # it can read, not write
    result = teams("apply", now=DURING)
    assert result.exit_code == 1
    line = one_line(result.output)
    assert "403 Forbidden" in line and "aligner auth microsoft" in line
    assert writes(sandbox) == 1  # the refused write, not retried
    assert service.status() == ORIGINAL


def test_a_personal_account_is_told_it_needs_a_work_account(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    service.directory.person.work_account = False
    result = teams("apply", now=DURING)
    assert result.exit_code == 1
    line = one_line(result.output)
    assert "needs a work or school account" in line and "personal Microsoft account" in line
    assert "aligner auth microsoft" in line
    assert [r.status for r in sandbox.requests("graph")] == [403]


def test_no_credentials_is_a_clear_failure(teams: Aligner) -> None:
    teams.env = {k: v for k, v in teams.env.items() if k != "ALIGNER_MICROSOFT_ACCESS_TOKEN"}
    result = teams("apply", now=DURING)
    assert result.exit_code == 1
    assert "aligner auth microsoft" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_waited_out_after_retry_after(
    teams: Aligner, sandbox: Sandbox, service: PresenceService, status: int
) -> None:
    sandbox.inject(SET, "status", status=status, retry_after=0, times=2)
    result = teams("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert [r.status for r in sandbox.requests("graph", SET)] == [status, status, 200]
    assert service.status() is not None and service.status()["content"] == THEMED


def test_a_throttled_read_is_waited_out_too(teams: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("presence.get", "status", status=429, retry_after=0)
    assert teams("apply", now=DURING).exit_code == 0
    # the throttled read waited out; answered just now, the write relies on it
    assert [r.status for r in sandbox.requests("graph", "presence.get")] == [429, 200]


def test_a_wait_longer_than_the_cap_is_left_to_the_next_run(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    sandbox.inject(SET, "status", status=429, retry_after=120)
    result = teams("apply", now=DURING, ALIGNER_RETRY_CAP="5")
    assert result.exit_code == 1
    assert "the next run will try again" in flat(result.output)
    assert writes(sandbox) == 1  # one request, no wait for two minutes
    retry = teams("apply", now=DURING)
    assert retry.exit_code == 0, retry.output
    assert "conflict" not in retry.output
    assert service.status() is not None and service.status()["content"] == THEMED


def test_a_dropped_answer_converges_on_the_next_run_without_a_second_write(
    teams: Aligner, sandbox: Sandbox, service: PresenceService
) -> None:
    sandbox.inject(SET, "drop")
    assert teams("apply", now=DURING).exit_code == 1  # the answer was lost: not re-sent
    assert writes(sandbox) == 1
    assert service.status() is not None and service.status()["content"] == THEMED
    sandbox.clear_log()
    again = teams("apply", now=DURING)
    assert again.exit_code == 0, again.output
    assert writes(sandbox) == 0 and "conflict" not in again.output
    assert teams("apply", now=AFTER).exit_code == 0  # and it is still given back
    assert service.status() == ORIGINAL


def test_a_refused_first_write_is_retried_not_called_a_hand_edit(
    teams: Aligner, service: PresenceService, sandbox: Sandbox
) -> None:
    sandbox.inject(SET, "status", status=400)
    assert teams("apply", now=DURING).exit_code == 1
    retry = teams("apply", now=DURING)
    assert retry.exit_code == 0, retry.output
    assert "conflict" not in retry.output
    assert teams("apply", now=AFTER).exit_code == 0
    assert service.status() == ORIGINAL


def test_the_sandbox_refuses_what_graph_refuses(sandbox: Sandbox, service: PresenceService) -> None:
    from aligner.errors import AuthError
    from aligner.vendors.microsoft.errors import GraphRefused
    from aligner.vendors.microsoft.graph import Graph

    graph = Graph(f"{sandbox.url}graph/v1.0/", GRAPH_TOKEN, "teams")
    try:
        with pytest.raises(GraphRefused, match="maximum length of 280"):
            graph.post(
                "me/presence/setStatusMessage",
                {"statusMessage": {"message": {"content": "x" * 281, "contentType": "text"}}},
            )
        with pytest.raises(GraphRefused, match="contentType 'text'"):
            graph.post(
                "me/presence/setStatusMessage",
                {"statusMessage": {"message": {"content": "<b>hi</b>", "contentType": "html"}}},
            )
        assert service.status() == ORIGINAL
        body = graph.get("me/presence").json()
        assert body["id"] == service.directory.person.id
        assert body["statusMessage"]["message"] == {
            "content": ORIGINAL["content"],
            "contentType": "text",
        }
        assert "publishedDateTime" in body["statusMessage"]
        with pytest.raises(AuthError, match="Access token is empty"):
            graph.get("me/presence", headers={"Authorization": "Basic e30="})  # no bearer token
    finally:
        graph.close()
