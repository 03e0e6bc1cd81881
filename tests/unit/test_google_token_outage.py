"""Google's token endpoint failing for a while is transient: the next run tries again; nobody is
told to sign in again."""

from __future__ import annotations

from pathlib import Path

from aligner.sandbox.google.common import GOOGLE_REFRESH_TOKEN
from aligner.sandbox.server import Sandbox
from tests.cli.test_auth_google import SIGNATURE_SECTION, authorized_user_file
from tests.conftest import DURING, SLACK_SECTION, Aligner, write_theme


def test_a_503_from_the_token_endpoint_is_transient(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
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

    sandbox.faults.clear()
    again = aligner("apply", now=DURING)
    assert again.exit_code == 0, again.output
    assert sandbox.requests("gmail.settings", writes=True)
