"""`aligner auth slack`: a pasted token or the OAuth v2 flow, checked by auth.test, kept 0600."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SLACK_TOKEN
from tests.cli.test_auth_google import Interactive, follow_redirect
from tests.conftest import DURING, REPO, USER_ID, Aligner

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "slack-app-client-secret"
PROFILE_SCOPES = ("users.profile:read", "users.profile:write")


@pytest.fixture
def creds_dir(tmp_path: Path) -> Path:
    return tmp_path / "creds"


@pytest.fixture
def slack_aligner(aligner: Aligner, creds_dir: Path) -> Aligner:
    """No ALIGNER_SLACK_TOKEN in the environment: the stored token is what counts."""
    aligner.env = {**aligner.env, "ALIGNER_CREDENTIALS_DIR": str(creds_dir)}
    aligner.env.pop("ALIGNER_SLACK_TOKEN")
    return aligner


def stored(creds_dir: Path) -> Path:
    return creds_dir / "slack-token"


def test_pasted_token_is_checked_then_stored_privately(
    slack_aligner: Aligner, sandbox: Sandbox, creds_dir: Path
) -> None:
    result = CliRunner().invoke(  # `--token` alone: read from a hidden prompt
        cli,
        ["auth", "slack", "--token", "--config", str(slack_aligner.config)],
        env=slack_aligner.env,
        input=SLACK_TOKEN + "\n",
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "alex in Sandbox" in result.output
    assert SLACK_TOKEN not in result.output
    assert sandbox.requests("slack", "auth.test")
    path = stored(creds_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == SLACK_TOKEN
    # The stored token is what the next apply uses.
    assert slack_aligner("apply", now=DURING).exit_code == 0
    assert sandbox.service("slack").status(USER_ID)["status_emoji"] == ":rocket:"


@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_token_is_refused_and_not_stored(
    slack_aligner: Aligner, creds_dir: Path, debug: bool
) -> None:
    bad = "xoxp-not-a-real-token-123"
    args = ["--debug", "auth", "slack", "--token"] if debug else ["auth", "slack", "--token"]
    result = slack_aligner(*args, stdin=bad + "\n")
    assert result.exit_code == 1
    assert "Slack does not know this token" in result.output
    assert bad not in result.output
    assert not stored(creds_dir).exists()


def test_a_token_without_the_write_scope_is_refused_naming_it(
    slack_aligner: Aligner, sandbox: Sandbox, creds_dir: Path
) -> None:
    sandbox.service("slack").add_user("xoxp-read-only", USER_ID, scopes=("users.profile:read",))
    result = slack_aligner("auth", "slack", "--token", stdin="xoxp-read-only\n")
    assert result.exit_code == 1
    assert "lacks users.profile:write" in result.output
    assert not stored(creds_dir).exists()


def test_a_token_on_the_command_line_is_refused_unread(
    slack_aligner: Aligner, creds_dir: Path
) -> None:
    """argv shows in `ps` and in shell history: a token travels on stdin or a hidden prompt."""
    result = slack_aligner("auth", "slack", "--token", SLACK_TOKEN)
    assert result.exit_code == 2
    assert "--token:" in result.output and "pipe it" in result.output
    assert SLACK_TOKEN not in result.output
    assert not stored(creds_dir).exists()


def test_oauth_flow_exchanges_the_code_through_the_sdk(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    slack_aligner: Aligner,
    sandbox: Sandbox,
    creds_dir: Path,
) -> None:
    slack = sandbox.service("slack")
    slack.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    slack.oauth_codes["slack-code-1"] = (USER_ID, PROFILE_SCOPES)
    for name, value in {**slack_aligner.env, "ALIGNER_SLACK_CLIENT_ID": CLIENT_ID}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALIGNER_SLACK_CLIENT_SECRET", CLIENT_SECRET)
    args = ("auth", "slack", "--no-browser", "--port", "0", "--config", str(slack_aligner.config))
    with Interactive(capsys, *args) as run:
        url = run.url("https://slack.com/oauth/v2/authorize")
        query = parse_qs(urlsplit(url).query)
        assert query["user_scope"] == [",".join(PROFILE_SCOPES)]
        assert query["client_id"] == [CLIENT_ID]
        redirect = query["redirect_uri"][0]
        assert redirect.startswith("https://localhost:") and redirect.endswith("/slack/callback")
        assert follow_redirect(redirect, code="slack-code-1", state=query["state"][0]) == 200
        assert run.finish() == 0, run.out + run.err

    token = stored(creds_dir).read_text().strip()
    assert token.startswith("xoxp-") and token in slack.tokens
    assert stat.S_IMODE(stored(creds_dir).stat().st_mode) == 0o600
    for secret in (token, CLIENT_SECRET):
        assert secret not in run.out + run.err
    assert sandbox.requests("slack", "oauth.v2.access")


def test_a_redirect_with_the_wrong_state_is_ignored(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    slack_aligner: Aligner,
    sandbox: Sandbox,
    creds_dir: Path,
) -> None:
    slack = sandbox.service("slack")
    slack.oauth_clients[CLIENT_ID] = CLIENT_SECRET
    slack.oauth_codes["good"] = (USER_ID, PROFILE_SCOPES)
    for name, value in {**slack_aligner.env, "ALIGNER_SLACK_CLIENT_ID": CLIENT_ID}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALIGNER_SLACK_CLIENT_SECRET", CLIENT_SECRET)
    with Interactive(capsys, "auth", "slack", "--no-browser", "--port", "0") as run:
        query = parse_qs(urlsplit(run.url("https://slack.com/")).query)
        redirect = query["redirect_uri"][0]
        follow_redirect(redirect, code="forged", state="not-the-state")
        follow_redirect(redirect, code="good", state=query["state"][0])
        assert run.finish() == 0, run.out + run.err
    assert len(sandbox.requests("slack", "oauth.v2.access")) == 1
    assert stored(creds_dir).exists()


def test_the_shipped_manifest_asks_exactly_for_what_aligner_needs() -> None:
    import yaml

    from aligner.vendors.slack.oauth import CALLBACK_PATH, DEFAULT_PORT, user_scopes

    path = REPO / "deploy" / "slack-app-manifest.yaml"
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    oauth = manifest["oauth_config"]
    assert oauth["scopes"] == {"user": user_scopes()}
    assert oauth["redirect_urls"] == [f"https://localhost:{DEFAULT_PORT}{CALLBACK_PATH}"]
    assert manifest["settings"]["token_rotation_enabled"] is False
