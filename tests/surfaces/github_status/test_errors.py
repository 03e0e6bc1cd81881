"""How GitHub's refusals reach the person: fast for credentials, patient (within a cap) for
rate limits, and GraphQL errors that arrive with HTTP 200 are failures."""

from __future__ import annotations

import time

import pytest

from aligner.errors import AuthError, PermanentError
from aligner.sandbox.github.service import GITHUB_TOKEN, LOGIN
from aligner.sandbox.server import Sandbox
from aligner.surfaces.github_status.client import GraphQL
from aligner.surfaces.github_status.surface import CHANGE
from tests.conftest import DURING, Aligner, flat
from tests.surfaces.github_status.helpers import ORIGINAL, THEMED, writes


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_out(gh: Aligner, sandbox: Sandbox, status: int) -> None:
    sandbox.inject("github.changeUserStatus", "status", status=status, retry_after=0, times=2)
    result = gh("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert [r.status for r in sandbox.requests("github", "github.changeUserStatus")] == [
        status,
        status,
        200,
    ]
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED


def test_a_rate_limit_longer_than_the_cap_is_left_to_the_next_run(
    gh: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("github.changeUserStatus", "status", status=429, retry_after=120)
    started = time.monotonic()
    result = gh("apply", now=DURING)
    assert time.monotonic() - started < 5  # it did not sit out the two minutes
    assert result.exit_code == 1
    assert "the next run will try again" in result.output
    assert writes(sandbox) == 1
    retry = gh("apply", now=DURING)
    assert retry.exit_code == 0, retry.output
    assert "conflict" not in retry.output
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED


def test_a_server_error_is_retried(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("github.changeUserStatus", "status", status=502, retry_after=0)
    assert gh("apply", now=DURING).exit_code == 0
    assert [r.status for r in sandbox.requests("github", "github.changeUserStatus")] == [502, 200]


def test_bad_credentials_fail_fast_with_what_to_do(gh: Aligner, sandbox: Sandbox) -> None:
    wrong = "ghp_notAKnownToken000000000000000000000"
    result = gh("apply", now=DURING, ALIGNER_GITHUB_TOKEN=wrong)
    assert result.exit_code == 1
    assert "Bad credentials" in flat(result.output) and "aligner auth github" in flat(result.output)
    assert wrong not in result.output and "Traceback" not in result.output
    assert len(sandbox.requests("github")) == 1  # no retry


def test_a_missing_user_scope_fails_fast_naming_it(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("github").add_token("ghp_readOnly", LOGIN, scopes=("read:user",))
    result = gh("apply", now=DURING, ALIGNER_GITHUB_TOKEN="ghp_readOnly")
    assert result.exit_code == 1
    assert "lacks the user scope" in result.output
    assert writes(sandbox) == 1  # the refused write, not retried
    assert sandbox.service("github").status(LOGIN) == ORIGINAL


def test_a_missing_token_is_a_clear_failure(gh: Aligner) -> None:
    gh.env = {k: v for k, v in gh.env.items() if k != "ALIGNER_GITHUB_TOKEN"}
    result = gh("apply", now=DURING)
    assert result.exit_code == 1
    assert "ALIGNER_GITHUB_TOKEN" in result.output and "aligner auth github" in result.output


def test_a_dropped_answer_is_adopted_on_the_next_run(gh: Aligner, sandbox: Sandbox) -> None:
    sandbox.inject("github.changeUserStatus", "drop")
    assert gh("apply", now=DURING).exit_code == 1  # the answer was lost: not re-sent
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED
    sandbox.clear_log()
    assert gh("apply", now=DURING).exit_code == 0
    assert writes(sandbox) == 0


def test_graphql_errors_with_http_200_are_errors(sandbox: Sandbox) -> None:
    client = GraphQL(f"{sandbox.url}graphql", GITHUB_TOKEN, "github")
    with pytest.raises(PermanentError, match="maximum is 80 characters"):
        client(CHANGE, {"input": {"message": "x" * 81}})
    assert sandbox.requests("github")[-1].status == 200
    assert sandbox.service("github").status(LOGIN) == ORIGINAL
    with pytest.raises(PermanentError, match="doesn't exist on type 'User'"):
        client("query { viewer { login nickname } }")


def test_insufficient_scopes_at_200_is_an_auth_error(sandbox: Sandbox) -> None:
    sandbox.service("github").add_token("ghp_repoOnly", LOGIN, scopes=("repo",))
    client = GraphQL(f"{sandbox.url}graphql", "ghp_repoOnly", "github")
    with pytest.raises(AuthError, match="lacks the user scope"):
        client(CHANGE, {"input": {"message": "hello"}})


def test_the_sandbox_sends_the_scope_headers(sandbox: Sandbox) -> None:
    client = GraphQL(f"{sandbox.url}graphql", GITHUB_TOKEN, "github")
    assert client("query { viewer { login } }").scopes == ("user", "repo")
    sandbox.service("github").add_token("github_pat_fine", LOGIN, scopes=None)
    fine = GraphQL(f"{sandbox.url}graphql", "github_pat_fine", "github")
    assert fine("query { viewer { login } }").scopes is None


def test_a_refused_first_write_is_retried_not_called_a_hand_edit(
    gh: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("github.changeUserStatus", "status", status=400)
    assert gh("apply", now=DURING).exit_code == 1
    retry = gh("apply", now=DURING)
    assert retry.exit_code == 0, retry.output
    assert "conflict" not in retry.output
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED
    assert gh("apply", now="2026-12-03T20:00:00Z").exit_code == 0
    assert sandbox.service("github").status(LOGIN) == ORIGINAL


def test_an_edit_after_a_refused_first_write_becomes_the_original(
    gh: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("github.changeUserStatus", "status", status=400)
    assert gh("apply", now=DURING).exit_code == 1
    sandbox.service("github").set_status(LOGIN, "On vacation", ":palm_tree:")
    assert gh("apply", now=DURING).exit_code == 0
    assert sandbox.service("github").status(LOGIN)["message"] == THEMED
    assert gh("apply", now="2026-12-03T20:00:00Z").exit_code == 0
    assert sandbox.service("github").status(LOGIN)["message"] == "On vacation"
