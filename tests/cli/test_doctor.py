"""`aligner doctor`: one line per check, naming what is wrong and how to fix it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aligner.sandbox.google.common import GOOGLE_REFRESH_TOKEN, GOOGLE_TOKEN
from aligner.sandbox.server import Sandbox
from aligner.sandbox.slack.service import SLACK_TOKEN
from aligner.state.credentials import write_private
from aligner.vendors.google.scopes import GMAIL_COMPOSE, GMAIL_SETTINGS_BASIC
from tests.conftest import DURING, SLACK_SECTION, USER_ID, Aligner, write_theme

SIGNATURE = "\n[signature]\nenabled = true\n"
NOTE = """
[note]
enabled = true
to = ["recruiter@example.com"]
body = "Looking forward to it: {{ metrics.latency | change }}"
"""
CALENDAR = "\n[calendar]\nenabled = true\n"


@pytest.fixture
def full(aligner: Aligner, tmp_path: Path) -> Aligner:
    aligner.config = write_theme(tmp_path / "theme.toml", SLACK_SECTION, SIGNATURE, NOTE, CALENDAR)
    aligner.env = {**aligner.env, "ALIGNER_CREDENTIALS_DIR": str(tmp_path / "creds")}
    return aligner


def lines(output: str) -> dict[str, str]:
    """check name -> its whole line (a check folded at 100 columns is joined up again)."""
    # only a word longer than the width (a path) may run past it: it is never cut
    assert all(len(line) <= 100 or " " not in line.strip() for line in output.splitlines())
    found = {}
    for line in re.sub(r"\n +", " ", output).splitlines():
        _, _, rest = line.partition(" ")
        found[rest.partition(":")[0]] = line
    return found


def test_everything_in_order_exits_0(full: Aligner, sandbox: Sandbox) -> None:
    result = full("doctor")
    assert result.exit_code == 0, result.output
    found = lines(result.output)
    for name in (
        "theme",
        "timezone",
        "state_dir",
        "slack.credentials",
        "slack.works",
        "slack.scopes",
        "google.credentials",
        "calendar.works",
        "signature.works",
        "signature.send_as",
        "note.works",
    ):
        assert found[name].startswith("✓"), found[name]
    assert found["calendar.focus_time"][0] in "✓?!"
    assert "users.profile:write" in found["slack.scopes"]


def test_json_lists_every_check(full: Aligner) -> None:
    result = full("doctor", "--json")
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["ok"] is True
    assert {c["status"] for c in body["checks"]} <= {"ok", "unknown", "warn"}
    assert all(set(c) == {"name", "status", "detail", "remedy"} for c in body["checks"])


def test_a_missing_slack_scope_is_named(full: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("slack").add_user("xoxp-read-only", USER_ID, scopes=("users.profile:read",))
    result = full("doctor", ALIGNER_SLACK_TOKEN="xoxp-read-only")
    assert result.exit_code == 1
    line = lines(result.output)["slack.scopes"]
    assert line.startswith("✗") and "users.profile:write" in line and "reinstall" in line
    assert "xoxp-read-only" not in result.output


def test_a_scope_missing_from_the_google_grant_is_named(
    full: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    grant = {
        "refresh_token": GOOGLE_REFRESH_TOKEN,
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "GOCSPX-doctor",
        "scopes": [GMAIL_SETTINGS_BASIC],  # no gmail.compose, no calendar.events
    }
    write_private(tmp_path / "creds" / "google-credentials.json", json.dumps(grant))
    result = full("doctor", ALIGNER_GOOGLE_ACCESS_TOKEN=None)  # type: ignore[arg-type]
    assert result.exit_code == 1
    line = lines(result.output)["google.scopes"]
    assert line.startswith("✗")
    assert "gmail.compose (for the note)" in line and "calendar.events" in line
    assert "aligner auth google" in line
    assert GOOGLE_REFRESH_TOKEN not in result.output and "GOCSPX-doctor" not in result.output


def test_a_raw_token_lacking_a_scope_fails_its_read(full: Aligner, sandbox: Sandbox) -> None:
    sandbox.service("oauth").accounts.grant("ya29.settings-only", GMAIL_SETTINGS_BASIC)
    result = full("doctor", ALIGNER_GOOGLE_ACCESS_TOKEN="ya29.settings-only")
    assert result.exit_code == 1
    found = lines(result.output)
    assert found["signature.works"].startswith("✓")
    assert found["note.works"].startswith("✗") and GMAIL_COMPOSE in found["note.works"]


def test_missing_credentials_say_how_to_get_them(full: Aligner) -> None:
    result = full("doctor", ALIGNER_SLACK_TOKEN=None, ALIGNER_GOOGLE_ACCESS_TOKEN=None)  # type: ignore[arg-type]
    assert result.exit_code == 1
    found = lines(result.output)
    assert "aligner auth slack" in found["slack.credentials"]
    assert "aligner auth google" in found["google.credentials"]


def test_a_revoked_google_grant_asks_to_reauth(full: Aligner, tmp_path: Path) -> None:
    grant = {"refresh_token": "1//revoked", "client_id": "c", "client_secret": "s"}
    write_private(tmp_path / "creds" / "google-credentials.json", json.dumps(grant))
    result = full("doctor", ALIGNER_GOOGLE_ACCESS_TOKEN=None)  # type: ignore[arg-type]
    assert result.exit_code == 1
    assert "run `aligner auth google` again" in lines(result.output)["note.works"]


def test_an_unknown_send_as_address_is_named(aligner: Aligner, tmp_path: Path) -> None:
    aligner.config = write_theme(
        tmp_path / "t.toml", SIGNATURE.replace("true", 'true\nsend_as = "nope@example.com"')
    )
    result = aligner("doctor")
    assert result.exit_code == 1
    line = lines(result.output)["signature.send_as"]
    assert line.startswith("✗") and "nope@example.com" in line and "alex@example.com" in line


def test_status_emoji_is_checked_when_emoji_read_was_granted(
    aligner: Aligner, sandbox: Sandbox, tmp_path: Path
) -> None:
    slack = sandbox.service("slack")
    scopes = ("users.profile:read", "users.profile:write", "emoji:read")
    slack.add_user("xoxp-with-emoji", USER_ID, scopes=scopes)
    slack.custom_emoji.add("shipit")
    aligner.config = write_theme(tmp_path / "t.toml", SLACK_SECTION.replace(":rocket:", ":shipit:"))
    assert "slack.emoji" not in lines(aligner("doctor").output)  # not granted: not checked
    result = aligner("doctor", ALIGNER_SLACK_TOKEN="xoxp-with-emoji")
    assert lines(result.output)["slack.emoji"].startswith("✓")
    aligner.config = write_theme(tmp_path / "t2.toml", SLACK_SECTION.replace(":rocket:", ":nope:"))
    result = aligner("doctor", ALIGNER_SLACK_TOKEN="xoxp-with-emoji")
    assert lines(result.output)["slack.emoji"].startswith("?")
    assert result.exit_code == 0


def test_a_personal_account_has_no_focus_time(full: Aligner, sandbox: Sandbox) -> None:
    calendar = sandbox.service("calendar")
    primary = next(c for c in calendar.calendars.values() if c.primary)
    primary.summary = "alex@gmail.com"
    line = lines(full("doctor").output)["calendar.focus_time"]
    assert line.startswith("!") and 'event_type = "default"' in line


def test_bad_theme_timezone_and_state_dir(aligner: Aligner, tmp_path: Path) -> None:
    aligner.config.write_text(
        aligner.config.read_text().replace("America/Los_Angeles", "Mars/Olympus")
    )
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = aligner("doctor", ALIGNER_STATE_DIR=str(blocker / "state"))
    assert result.exit_code == 1
    found = lines(result.output)
    assert found["theme"].startswith("✗") and "Mars/Olympus" in found["theme"]
    assert found["timezone"].startswith("✗")
    assert found["state_dir"].startswith("✗") and "ALIGNER_STATE_DIR" in found["state_dir"]


def test_a_group_readable_credential_file_is_reported_with_the_fix(
    full: Aligner, tmp_path: Path
) -> None:
    path = tmp_path / "creds" / "google-credentials.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"refresh_token": GOOGLE_REFRESH_TOKEN}))
    path.chmod(0o640)
    result = full("doctor", ALIGNER_GOOGLE_ACCESS_TOKEN=None)  # type: ignore[arg-type]
    line = lines(result.output)["google.credentials"]
    assert line.startswith("✗") and f"chmod 600 {path}" in line


@pytest.mark.parametrize("debug", [False, True])
def test_no_token_value_appears_in_doctor_output(full: Aligner, debug: bool) -> None:
    args = ["--debug", "doctor", "--json"] if debug else ["doctor"]
    result = full(*args)
    for secret in (SLACK_TOKEN, GOOGLE_TOKEN):
        assert secret not in result.output


@pytest.mark.parametrize(
    ("granted", "now", "warned"),
    [
        ("2026-11-20T09:00:00+00:00", DURING, "is 12 days old"),  # older than 6 days
        ("2026-11-25T09:00:00+00:00", "2026-11-26T09:00:00Z", "more than 6 days after"),
        ("2026-12-01T09:00:00+00:00", DURING, None),
    ],
)
def test_a_grant_that_testing_status_would_expire_is_warned_about(
    full: Aligner, sandbox: Sandbox, tmp_path: Path, granted: str, now: str, warned: str | None
) -> None:
    """Apps in Google's "Testing" status get refresh tokens that expire after 7 days."""
    grant = {
        "refresh_token": GOOGLE_REFRESH_TOKEN,
        "client_id": "1234.apps.googleusercontent.com",
        "client_secret": "GOCSPX-doctor",
        "token_uri": f"{sandbox.url}token",
        "scopes": [
            GMAIL_SETTINGS_BASIC,
            GMAIL_COMPOSE,
            "https://www.googleapis.com/auth/calendar.events",
        ],
        "granted_at": granted,
    }
    write_private(tmp_path / "creds" / "google-credentials.json", json.dumps(grant))
    result = full("doctor", now=now, ALIGNER_GOOGLE_ACCESS_TOKEN=None)  # type: ignore[arg-type]
    line = lines(result.output)["google.grant_age"]
    if warned is None:
        assert line.startswith("✓"), line
    else:
        assert line.startswith("!") and warned in line and "Publish app" in line, line


def test_a_remedy_the_detail_already_gives_is_not_said_twice() -> None:
    from aligner.core.doctor import Check

    said = Check(
        "calendar.works",
        "fail",
        "no Microsoft credentials: run `aligner auth microsoft` (or set a token)",
        "run `aligner auth microsoft`",
    )
    assert said.remedy == ""
    other = Check("calendar.works", "fail", "refused", "run `aligner auth microsoft`")
    assert other.remedy == "run `aligner auth microsoft`"
