"""Google's token endpoint failing for a while is transient: the next run tries again; nobody is
told to sign in again."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from google.auth import _exponential_backoff

from aligner.sandbox.google.common import GOOGLE_REFRESH_TOKEN
from aligner.sandbox.server import Sandbox
from tests.cli.test_auth_google import SIGNATURE_SECTION, authorized_user_file
from tests.conftest import DURING, SLACK_SECTION, Aligner, write_theme


def test_a_503_from_the_token_endpoint_is_transient(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # google-auth retries its token request with its own backoff (1 s, then 2 s): recorded, not
    # slept, as the `waits` fixture does for aligner's own waits. The requests are the same.
    backoff: list[float] = []
    monkeypatch.setattr(_exponential_backoff, "time", SimpleNamespace(sleep=backoff.append))
    creds = authorized_user_file(tmp_path / "google.json", sandbox, GOOGLE_REFRESH_TOKEN)
    google = {k: v for k, v in env.items() if k != "ALIGNER_GOOGLE_ACCESS_TOKEN"}
    theme = write_theme(tmp_path / "theme.toml", SLACK_SECTION, SIGNATURE_SECTION)
    aligner = Aligner({**google, "ALIGNER_GOOGLE_CREDENTIALS": str(creds)}, theme, sandbox)
    sandbox.inject("oauth.token", "status", status=503, times=10)

    result = aligner("apply", now=DURING)
    assert result.exit_code == 1
    assert "the next run will try again" in result.output
    assert "aligner auth google" not in result.output
    assert not sandbox.requests("gmail.settings", writes=True)
    assert backoff  # google-auth retried the token request (and was answered 503 each time)

    sandbox.faults.clear()
    again = aligner("apply", now=DURING)
    assert again.exit_code == 0, again.output
    assert sandbox.requests("gmail.settings", writes=True)
