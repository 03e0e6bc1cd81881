"""`aligner auth slack|github --store keyring`: the token in the OS keychain, files the default.

The `keyring` package is optional; these tests put a fake one (an in-memory keychain) in
`sys.modules`, or none at all, or one with no usable backend.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aligner.cli import cli
from aligner.sandbox.github.service import GITHUB_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SLACK_TOKEN
from tests.conftest import DURING, USER_ID, Aligner
from tests.surfaces.github_status.helpers import github_theme


class NoKeyringError(RuntimeError):
    """What keyring raises when it finds no usable backend."""


def fake_keyring(
    monkeypatch: pytest.MonkeyPatch, *, backend: bool = True
) -> dict[tuple[str, str], str]:
    kept: dict[tuple[str, str], str] = {}
    module = types.ModuleType("keyring")

    def set_password(service: str, name: str, value: str) -> None:
        if not backend:
            raise NoKeyringError("No recommended backend was available")
        kept[(service, name)] = value

    def get_password(service: str, name: str) -> str | None:
        if not backend:
            raise NoKeyringError("No recommended backend was available")
        return kept.get((service, name))

    module.set_password = set_password  # type: ignore[attr-defined]
    module.get_password = get_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    return kept


@pytest.fixture
def creds_dir(tmp_path: Path) -> Path:
    return tmp_path / "creds"


@pytest.fixture
def slack_aligner(aligner: Aligner, creds_dir: Path) -> Aligner:
    aligner.env = {**aligner.env, "ALIGNER_CREDENTIALS_DIR": str(creds_dir)}
    aligner.env.pop("ALIGNER_SLACK_TOKEN")
    return aligner


def auth(who: Aligner, name: str, token: str, *flags: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["auth", name, *flags, "--config", str(who.config)],
        env=who.env,
        input=token + "\n",
        catch_exceptions=False,
    )


def test_slack_token_stored_in_the_keychain_is_used_and_no_file_is_written(
    slack_aligner: Aligner, sandbox: Sandbox, creds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = fake_keyring(monkeypatch)

    result = auth(slack_aligner, "slack", SLACK_TOKEN, "--token", "--store", "keyring")

    assert result.exit_code == 0, result.output
    assert "at the OS keychain (service 'aligner', ALIGNER_SLACK_TOKEN)" in result.output
    assert SLACK_TOKEN not in result.output
    assert kept == {("aligner", "ALIGNER_SLACK_TOKEN"): SLACK_TOKEN}
    assert not (creds_dir / "slack-token").exists()
    assert json.loads((creds_dir / "keyring.json").read_text()) == ["slack_token"]
    assert SLACK_TOKEN not in (creds_dir / "keyring.json").read_text()

    assert slack_aligner("apply", now=DURING).exit_code == 0  # read back from the keychain
    assert sandbox.service("slack").status(USER_ID)["status_emoji"] == ":rocket:"


def test_files_stay_the_default_and_the_keychain_is_not_asked(
    slack_aligner: Aligner, creds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = fake_keyring(monkeypatch)
    result = auth(slack_aligner, "slack", SLACK_TOKEN, "--token")
    assert result.exit_code == 0, result.output
    assert (creds_dir / "slack-token").read_text().strip() == SLACK_TOKEN
    assert kept == {} and not (creds_dir / "keyring.json").exists()


def test_without_the_keyring_package_one_clear_line(
    slack_aligner: Aligner, creds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    result = auth(slack_aligner, "slack", SLACK_TOKEN, "--token", "--store", "keyring")
    assert result.exit_code == 1
    assert "--store keyring needs the keyring package (pip install keyring)" in result.output
    assert "Traceback" not in result.output
    assert not (creds_dir / "slack-token").exists()


def test_a_keychain_without_a_backend_is_one_clear_line(
    slack_aligner: Aligner, creds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_keyring(monkeypatch, backend=False)
    result = auth(slack_aligner, "slack", SLACK_TOKEN, "--token", "--store", "keyring")
    assert result.exit_code == 1
    assert "the OS keychain refused the credential (NoKeyringError" in result.output
    assert "leave --store out to keep it in a private file" in result.output
    assert SLACK_TOKEN not in result.output


def test_github_token_in_the_keychain(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = fake_keyring(monkeypatch)
    gh = Aligner(
        {**env, "ALIGNER_CREDENTIALS_DIR": str(tmp_path / "creds")}, github_theme(tmp_path), sandbox
    )
    gh.env.pop("ALIGNER_GITHUB_TOKEN")
    result = auth(gh, "github", GITHUB_TOKEN, "--store", "keyring")
    assert result.exit_code == 0, result.output
    assert kept == {("aligner", "ALIGNER_GITHUB_TOKEN"): GITHUB_TOKEN}
    assert not (tmp_path / "creds" / "github-token").exists()
    assert gh("apply", now=DURING).exit_code == 0
    assert sandbox.service("github").status("alex") is not None


def test_an_unknown_store_is_refused_before_asking_for_the_token(
    slack_aligner: Aligner, sandbox: Sandbox
) -> None:
    result = auth(slack_aligner, "slack", SLACK_TOKEN, "--token", "--store", "keychain")
    assert result.exit_code == 2
    assert "--store: 'keychain' is not one of file, keyring" in result.output
    assert sandbox.requests("slack", "auth.test") == []
