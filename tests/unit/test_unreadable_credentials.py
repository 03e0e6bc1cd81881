"""A credentials folder aligner may not enter is skipped with a warning, never a crash; it is an
error only for a command that then lacks the credential.

The tests run as root, which ignores permissions, so `chmod 000` cannot lock a folder here: the
folder is locked by making every look inside it raise PermissionError, as it does for a user
(Path.is_file, Path.iterdir, Path.read_text and Path.stat under it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import DURING, USER_ID, Aligner


def lock(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    def inside(path: Path) -> bool:
        return any(path != f and path.is_relative_to(f) for f in folders)

    def guarded(name: str) -> None:
        real: Callable[..., Any] = getattr(Path, name)

        def method(self: Path, *args: Any, **kwargs: Any) -> Any:
            if inside(self) or (name == "iterdir" and self in folders):
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, name, method)

    for name in ("is_file", "iterdir", "read_text", "stat"):
        guarded(name)


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dict[str, str]:
    credentials, secrets = tmp_path / "credentials", tmp_path / "secrets"
    for folder in (credentials, secrets):
        folder.mkdir()
    (credentials / "slack-token").write_text("xoxp-stored")
    (secrets / "ALIGNER_SLACK_TOKEN").write_text("xoxp-mounted")
    lock(monkeypatch, credentials, secrets)
    return {
        **env,
        "ALIGNER_CREDENTIALS_DIR": str(credentials),
        "ALIGNER_SECRETS_DIR": str(secrets),
    }


def test_validate_warns_and_succeeds(locked: dict[str, str], theme: Path) -> None:
    result = Aligner(locked, theme)("validate")
    assert result.exit_code == 0, result.output
    assert "warning: cannot read" in result.output
    assert "Permission denied" in result.output
    assert "internal error" not in result.output


def test_a_token_from_the_environment_still_works(
    locked: dict[str, str], theme: Path, sandbox: Sandbox
) -> None:
    result = Aligner(locked, theme, sandbox)("apply", now=DURING)
    assert result.exit_code == 0, result.output
    assert "warning: cannot read" in result.output
    assert sandbox.service("slack").status(USER_ID)["status_text"] != "Working from home"


def test_a_command_that_needs_the_skipped_credential_fails_clearly(
    locked: dict[str, str], theme: Path, sandbox: Sandbox
) -> None:
    env = {k: v for k, v in locked.items() if k != "ALIGNER_SLACK_TOKEN"}
    result = Aligner(env, theme, sandbox)("apply", now=DURING)
    assert result.exit_code == 1
    assert "warning: cannot read" in result.output
    assert "no Slack token" in result.output
    assert "internal error" not in result.output
