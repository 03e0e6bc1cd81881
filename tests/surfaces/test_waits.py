"""Waiting on a vendor is capped per run (ALIGNER_RETRY_CAP): a 429 asking for 100 s costs one
request and a clear line, not 100 s holding the lock. Reads that time out are asked once more;
writes never."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from aligner.vendors.google.errors import ErrorInfo, translate
from aligner.vendors.slack import client as slack_client
from tests.conftest import DURING, USER_ID, Aligner, flat, write_theme
from tests.surfaces.test_lost_answers import signature_section

LIMITED = "rate limited; the next run will try again"


@pytest.fixture
def signature(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, write_theme(tmp_path / "theme.toml", signature_section("append")), sandbox)


def test_a_slack_retry_after_past_the_cap_fails_the_run_at_once(
    aligner: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("users.profile.get", "status", status=429, retry_after=100)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 1
    assert LIMITED in flat(result.output)
    assert len(sandbox.requests("slack", "users.profile.get")) == 1
    assert not sandbox.requests("slack", writes=True)


def test_a_slack_retry_after_within_the_cap_is_waited_for(
    aligner: Aligner, sandbox: Sandbox, waits: list[float]
) -> None:
    sandbox.inject("users.profile.get", "status", status=429, retry_after=1)
    result = aligner("apply", now=DURING, ALIGNER_RETRY_CAP="5")
    assert result.exit_code == 0, result.output
    assert len(waits) == 1 and 1 <= waits[0] <= 1.1  # Retry-After, plus a little jitter
    # the plan's read, waited for and asked again; answered just now, the write relies on it
    assert [r.status for r in sandbox.requests("slack", "users.profile.get")] == [429, 200]


def test_the_cap_is_a_total_per_run_not_per_wait(
    aligner: Aligner, sandbox: Sandbox, waits: list[float]
) -> None:
    sandbox.inject("users.profile.get", "status", status=429, retry_after=1, times=3)
    result = aligner("apply", now=DURING, ALIGNER_RETRY_CAP="1.5")
    assert result.exit_code == 1
    assert len(waits) == 1 and sum(waits) <= 1.5
    assert LIMITED in flat(result.output)
    assert [r.status for r in sandbox.requests("slack", "users.profile.get")] == [429, 429]


def test_a_google_retry_after_past_the_cap_fails_the_run_at_once(
    signature: Aligner, sandbox: Sandbox
) -> None:
    sandbox.inject("gmail.sendAs.list", "status", status=429, retry_after=100)
    result = signature("apply", now=DURING)
    assert result.exit_code == 1
    assert LIMITED in flat(result.output)
    assert len(sandbox.requests("gmail.settings", "gmail.sendAs.list")) == 1


def test_a_bad_retry_cap_is_a_settings_error(aligner: Aligner) -> None:
    result = aligner("validate", ALIGNER_RETRY_CAP="-1")
    assert result.exit_code == 2
    assert "ALIGNER_RETRY_CAP" in result.output


@pytest.mark.usefixtures("real_waits")  # the slow answer lands during the wait
def test_a_slow_slack_read_is_asked_once_more(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_client, "TIMEOUT", 1)
    sandbox.inject("users.profile.get", "latency", seconds=1.5)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 0, result.output
    # the slow read and its one retry (answered just now: the write relies on it)
    assert len(sandbox.requests("slack", "users.profile.get")) == 2


@pytest.mark.usefixtures("real_waits")  # the slow answer lands during the wait
def test_a_slow_slack_write_is_never_sent_twice(
    aligner: Aligner, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_client, "TIMEOUT", 1)
    sandbox.inject("users.profile.set", "latency", seconds=1.5)
    result = aligner("apply", now=DURING)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for _ in range(100):  # the sandbox answers the slow write after the client gave up on it
        if sandbox.requests("slack", "users.profile.set"):
            break
        time.sleep(0.05)
    assert len(sandbox.requests("slack", "users.profile.set")) == 1
    assert sandbox.service("slack").status(USER_ID)["status_text"] != "Working from home"


def test_a_google_error_without_a_reason_names_the_status() -> None:
    error = translate(ErrorInfo(503, "", "", None), "signature", "scope")
    assert "(503 )" not in str(error)
    assert "503 Service Unavailable" in str(error)


def test_a_draft_error_without_a_reason_names_the_status(
    draft_note: Aligner, sandbox: Sandbox
) -> None:
    from tests.surfaces.note.note_helpers import DUE

    sandbox.inject("gmail.drafts.create", "status", status=503, times=10)
    result = draft_note("apply", now=DUE)
    assert result.exit_code == 1
    assert "(503 )" not in result.output
    assert "503 Service Unavailable" in flat(result.output)
