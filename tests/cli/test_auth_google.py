"""`aligner auth google` end to end, and a revoked grant during `apply`.

The flow runs the real CLI in a thread; the test plays the browser (it reads the printed URL and
performs the loopback redirect itself), and `responses` plays Google's token endpoint, which the
flow reaches over requests. Refreshes during `apply` go to the sandbox's own /token.
"""

from __future__ import annotations

import json
import stat
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses

from aligner.cli import cli
from aligner.sandbox.google.common import GOOGLE_REFRESH_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.state.credentials import write_private
from aligner.vendors.google.scopes import CALENDAR_EVENTS, GMAIL_COMPOSE, GMAIL_SETTINGS_BASIC
from tests.conftest import DURING, SLACK_SECTION, USER_ID, Aligner, write_theme

TOKEN_URI = "https://oauth2.googleapis.com/token"
CLIENT_SECRET = "GOCSPX-client-secret-value"
SIGNATURE_SECTION = "\n[signature]\nenabled = true\n"
NOTE_SECTION = """
[note]
enabled = true
to = ["recruiter@example.com"]
body = "Looking forward to it: {{ metrics.latency | change }}"
"""
NEW_ACCESS = "ya29.freshly-issued-access-token"
NEW_REFRESH = "1//freshly-issued-refresh-token"


class Interactive:
    """The real CLI in a thread, so the test can act as the browser while it waits."""

    def __init__(self, capsys: pytest.CaptureFixture[str], *args: str) -> None:
        self.capsys = capsys
        self.args = list(args)
        self.out = ""
        self.err = ""
        self.code: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            cli.main(self.args, prog_name="aligner", standalone_mode=False)
            self.code = 0
        except SystemExit as exc:
            self.code = exc.code
        except BaseException as exc:  # surfaced by finish()
            self.code = exc

    def __enter__(self) -> Interactive:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.thread.join(timeout=30)

    def _collect(self) -> None:
        captured = self.capsys.readouterr()
        self.out += captured.out
        self.err += captured.err

    def url(self, prefix: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._collect()
            for line in self.out.splitlines():
                if line.startswith(prefix):
                    return line.strip()
            if not self.thread.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no {prefix} URL printed; out={self.out!r} err={self.err!r}")

    def finish(self) -> Any:
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the command did not finish"
        self._collect()
        if isinstance(self.code, BaseException):
            raise self.code
        return self.code


def follow_redirect(redirect_uri: str, **params: str) -> int:
    """What the browser does after consent: GET the loopback redirect with the code."""
    context = None
    if redirect_uri.startswith("https://"):
        import ssl

        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    url = f"{redirect_uri}?{urlencode(params)}"
    with urllib.request.urlopen(url, timeout=10, context=context) as response:
        return int(response.status)


@pytest.fixture
def creds_dir(tmp_path: Path) -> Path:
    return tmp_path / "creds"


@pytest.fixture
def client_secrets(tmp_path: Path) -> Path:
    path = tmp_path / "client_secret.json"
    installed = {
        "client_id": "1234-desktop.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
        "redirect_uris": ["http://localhost"],
    }
    path.write_text(json.dumps({"installed": installed}), encoding="utf-8")
    return path


@pytest.fixture
def flow_env(
    monkeypatch: pytest.MonkeyPatch, creds_dir: Path, tmp_path: Path, client_secrets: Path
) -> Iterator[None]:
    monkeypatch.setenv("ALIGNER_CREDENTIALS_DIR", str(creds_dir))
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ALIGNER_GOOGLE_CLIENT_SECRETS", str(client_secrets))
    yield


def token_reply(scope: str) -> dict[str, Any]:
    return {
        "access_token": NEW_ACCESS,
        "refresh_token": NEW_REFRESH,
        "expires_in": 3599,
        "token_type": "Bearer",
        "scope": scope,
    }


def run_flow(
    capsys: pytest.CaptureFixture[str], theme: Path, granted: str
) -> tuple[Interactive, dict[str, list[str]], dict[str, list[str]]]:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URI, json=token_reply(granted))
        with Interactive(capsys, "auth", "google", "--no-browser", "--config", str(theme)) as run:
            url = run.url("https://accounts.google.com/")
            query = parse_qs(urlsplit(url).query)
            status = follow_redirect(
                query["redirect_uri"][0], code="4/one-time-code", state=query["state"][0]
            )
            assert status == 200
            run.finish()
        exchange = parse_qs(str(mock.calls[0].request.body)) if mock.calls else {}
        return run, query, exchange


@pytest.mark.usefixtures("flow_env")
def test_no_browser_flow_writes_a_private_file_with_the_granted_scopes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, creds_dir: Path
) -> None:
    theme = write_theme(tmp_path / "theme.toml", SLACK_SECTION, SIGNATURE_SECTION, NOTE_SECTION)
    # Google also reports calendar.events, granted earlier (include_granted_scopes).
    granted = " ".join([GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE, CALENDAR_EVENTS])
    run, query, exchange = run_flow(capsys, theme, granted)

    assert run.code == 0, run.out + run.err
    asked = query["scope"][0].split()
    assert sorted(asked) == sorted([GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE])  # enabled surfaces only
    assert query["include_granted_scopes"] == ["true"] and query["prompt"] == ["consent"]
    assert query["access_type"] == ["offline"]
    assert exchange["code"] == ["4/one-time-code"] and "code_verifier" in exchange

    path = creds_dir / "google-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["refresh_token"] == NEW_REFRESH
    assert sorted(stored["scopes"]) == sorted(
        [GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE, CALENDAR_EVENTS]
    )
    assert "mode 0600" in run.out and "gmail.compose" in run.out
    for secret in (NEW_ACCESS, NEW_REFRESH, CLIENT_SECRET):
        assert secret not in run.out + run.err


@pytest.mark.usefixtures("flow_env")
def test_a_scope_left_unticked_is_named_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, creds_dir: Path
) -> None:
    theme = write_theme(tmp_path / "theme.toml", SIGNATURE_SECTION, NOTE_SECTION)
    run, _, _ = run_flow(capsys, theme, GMAIL_SETTINGS_BASIC)
    assert run.code == 1
    assert "did not grant gmail.compose" in run.err
    assert json.loads((creds_dir / "google-credentials.json").read_text())["scopes"] == [
        GMAIL_SETTINGS_BASIC
    ]


def test_no_enabled_google_surface_is_a_usage_error(aligner: Aligner, tmp_path: Path) -> None:
    result = aligner("auth", "google", "--client-secrets", str(tmp_path / "x.json"))
    assert result.exit_code == 2
    assert "no Google surface is enabled" in result.output


def test_a_web_client_file_is_refused(aligner: Aligner, tmp_path: Path) -> None:
    aligner.config = write_theme(tmp_path / "t.toml", SIGNATURE_SECTION)
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))
    result = aligner("auth", "google", "--client-secrets", str(web))
    assert result.exit_code == 2
    assert "Desktop app" in result.output


# -- refresh during apply -----------------------------------------------------------------------


def authorized_user_file(path: Path, sandbox: Sandbox, refresh_token: str) -> Path:
    """What `auth google` writes, with no access token yet and token_uri at the sandbox."""
    data = {
        "refresh_token": refresh_token,
        "token_uri": f"{sandbox.url}token",
        "client_id": "1234-desktop.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET,
        "scopes": [GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE],
    }
    write_private(path, json.dumps(data))
    return path


@pytest.fixture
def google_file_aligner(aligner: Aligner, tmp_path: Path) -> Aligner:
    aligner.config = write_theme(tmp_path / "theme.toml", SLACK_SECTION, SIGNATURE_SECTION)
    aligner.env = {**aligner.env, "ALIGNER_CREDENTIALS_DIR": str(tmp_path / "creds")}
    aligner.env.pop("ALIGNER_GOOGLE_ACCESS_TOKEN")
    return aligner


@pytest.mark.parametrize("debug", [False, True])
def test_revoked_refresh_token_asks_to_reauth_and_slack_still_applies(
    google_file_aligner: Aligner, sandbox: Sandbox, tmp_path: Path, debug: bool
) -> None:
    revoked = "1//revoked-refresh-token"
    creds = authorized_user_file(tmp_path / "google.json", sandbox, revoked)
    args = ["--debug", "apply"] if debug else ["apply"]
    result = google_file_aligner(*args, now=DURING, ALIGNER_GOOGLE_CREDENTIALS=str(creds))

    assert result.exit_code == 1
    assert "run `aligner auth google` again" in result.output
    assert "Traceback" not in result.output
    assert sandbox.service("slack").status(USER_ID)["status_emoji"] == ":rocket:"
    assert len(sandbox.requests("oauth", "oauth.token")) >= 1
    for secret in (revoked, CLIENT_SECRET):
        assert secret not in result.output


def test_a_valid_refresh_token_is_refreshed_and_the_surface_applies(
    google_file_aligner: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    authorized_user_file(
        tmp_path / "creds" / "google-credentials.json", sandbox, GOOGLE_REFRESH_TOKEN
    )
    result = google_file_aligner("apply", now=DURING)  # found at the default location
    assert result.exit_code == 0, result.output
    assert sandbox.requests("oauth", "oauth.token")
    assert GOOGLE_REFRESH_TOKEN not in result.output


def test_a_refreshed_token_is_stored_and_reused_until_it_expires(
    google_file_aligner: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    """One refresh, then later runs reuse the stored token: not one refresh per cron run."""
    path = authorized_user_file(
        tmp_path / "creds" / "google-credentials.json", sandbox, GOOGLE_REFRESH_TOKEN
    )
    for _ in range(3):
        result = google_file_aligner("apply", "--refresh", now=DURING)
        assert result.exit_code == 0, result.output
    assert len(sandbox.requests("oauth", "oauth.token")) == 1
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["token"].startswith("ya29.refreshed-") and stored["expiry"].endswith("Z")
    assert stored["scopes"] == [GMAIL_SETTINGS_BASIC, GMAIL_COMPOSE]  # the rest as it was
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stored["token"] not in result.output


@pytest.mark.usefixtures("flow_env")
def test_a_refused_code_exchange_is_one_clear_line_even_with_debug(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, creds_dir: Path
) -> None:
    theme = write_theme(tmp_path / "theme.toml", SIGNATURE_SECTION)
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, TOKEN_URI, status=400, json={"error": "invalid_grant"})
        args = ("--debug", "auth", "google", "--no-browser", "--config", str(theme))
        with Interactive(capsys, *args) as run:
            query = parse_qs(urlsplit(run.url("https://accounts.google.com/")).query)
            follow_redirect(query["redirect_uri"][0], code="4/used-code", state=query["state"][0])
            assert run.finish() == 1
    assert "Google refused the authorization (invalid_grant)" in run.err
    assert CLIENT_SECRET not in run.out + run.err
    assert not (creds_dir / "google-credentials.json").exists()
