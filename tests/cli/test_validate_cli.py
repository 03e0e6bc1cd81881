"""Bad input: one clear line naming the field, exit 2, and nothing changes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from aligner.sandbox.server import Sandbox
from tests.conftest import BASE_THEME, DURING, SLACK_SECTION, Aligner, write_theme


def slack(text: str = "{{ theme.name }}", emoji: str = ":rocket:") -> str:
    return f'\n[slack]\nenabled = true\nstatus_text = "{text}"\nstatus_emoji = "{emoji}"\n'


def run_validate(env: dict[str, str], path: Path) -> tuple[int, str]:
    result = Aligner(env, path)("validate")
    return result.exit_code, result.stderr


def test_valid_theme(env: dict[str, str], theme: Path) -> None:
    result = Aligner(env, theme)("validate")
    assert result.exit_code == 0
    assert "valid" in result.stdout


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (slack("x" * 112), "slack.status_text: renders to 112 characters; Slack allows 100"),
        (slack(emoji="rocket"), "slack.status_emoji: 'rocket' is not an emoji code"),
        (slack("Prepping for my Example Corp loop"), "slack.status_text: mentions “Example Corp”"),
        (slack("Interview prep"), "slack.status_text: mentions “interview”"),
        (slack("Prepping for ExampleCorp"), "slack.status_text: mentions “Example Corp”"),
        (slack("Prepping for example-corp"), "slack.status_text: mentions “Example Corp”"),
        (slack("{{ metrics.nope | change }}"), "slack.status_text: unknown name 'nope'"),
        (slack("{{ theme.name "), "slack.status_text: template error"),
        ("\n[slack]\nenabeld = true\n", "slack.enabeld: unknown key"),
        (
            '\n[[metrics]]\nid = "x"\nlabel = "x"\nbefore = 1\nafter = 2\nbetter = "more"\n',
            "metrics[2].better: Input should be 'lower' or 'higher'",
        ),
    ],
)
def test_bad_theme_exits_2_naming_the_field(
    env: dict[str, str], tmp_path: Path, sections: str, expected: str
) -> None:
    code, stderr = run_validate(env, write_theme(tmp_path / "bad.toml", sections))
    assert code == 2
    assert expected in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'timezone = "America/Los_Angeles"',
            'timezone = "Mars/Olympus"',
            "theme.timezone: unknown timezone 'Mars/Olympus'",
        ),
        (
            'starts_at = "2026-12-03T10:00"',
            'starts_at = "next tuesday"',
            "interview.starts_at: 'next tuesday' is not a time",
        ),
        (
            'starts_at = "2026-12-03T10:00"',
            'starts_at = "2026-03-08T02:30"',
            "interview.starts_at: 2026-03-08T02:30 does not exist in America/Los_Angeles",
        ),
        ('start = "-24h"', 'start = "+2h"', "window.end: must be after window.start"),
        ('name = "Optimizing inference pipelines"', "", "theme.name: is required"),
    ],
)
def test_bad_core_fields(
    env: dict[str, str], tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BASE_THEME.replace(old, new) + SLACK_SECTION, encoding="utf-8")
    code, stderr = run_validate(env, path)
    assert code == 2
    assert expected in stderr


def test_toml_syntax_error(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[theme\nname = 1", encoding="utf-8")
    code, stderr = run_validate(env, path)
    assert code == 2 and "not valid TOML" in stderr


def test_missing_theme_file_says_how_to_make_one(env: dict[str, str], tmp_path: Path) -> None:
    code, stderr = run_validate(env, tmp_path / "nowhere.toml")
    assert code == 2 and "aligner init" in stderr


def test_discretion_warn_allows_with_a_warning(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    text = BASE_THEME.replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    path.write_text(text + slack("Interview prep"), encoding="utf-8")
    result = Aligner(env, path)("validate")
    assert result.exit_code == 0
    assert "warning: slack.status_text: mentions “interview”" in result.stderr


def test_discretion_off_is_silent(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    text = BASE_THEME.replace('id = "inference"', 'id = "inference"\ndiscretion = "off"')
    path.write_text(text + slack("Interview prep"), encoding="utf-8")
    result = Aligner(env, path)("validate")
    story = "warning: metrics."  # the text mentions no metric: a story warning, not discretion
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if not line.startswith(story)] == []


def test_bad_config_changes_nothing(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, state_dir: Path
) -> None:
    path = write_theme(tmp_path / "bad.toml", slack("x" * 120))
    for command in ("apply", "plan", "status", "timeline"):
        result = Aligner(env, path, sandbox)(command, now=DURING)
        assert result.exit_code == 2, command
    assert sandbox.requests() == []
    assert not state_dir.exists()


def test_revert_still_gives_back_when_the_theme_no_longer_validates(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    path = write_theme(tmp_path / "theme.toml", slack())
    assert Aligner(env, path, sandbox)("apply", now=DURING).exit_code == 0
    write_theme(path, slack("Interview prep at Example Corp"))  # now refused by validate
    result = Aligner(env, path, sandbox)("revert", now=DURING)
    assert result.exit_code == 0, result.output
    assert "warning: slack.status_text: mentions" in result.stderr
    assert sandbox.service("slack").status()["status_text"] == "Working from home"
    assert Aligner(env, path, sandbox)("apply", now=DURING).exit_code == 2


def test_revert_still_gives_back_when_a_template_no_longer_renders(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    path = write_theme(tmp_path / "theme.toml", slack())
    assert Aligner(env, path, sandbox)("apply", now=DURING).exit_code == 0
    write_theme(path, slack("{{ theme.nme }}"))
    result = Aligner(env, path, sandbox)("revert", now=DURING)
    assert result.exit_code == 0, result.output
    assert "unknown name 'nme'" in result.stderr
    assert sandbox.service("slack").status()["status_text"] == "Working from home"


def test_revert_needs_a_readable_theme_file(env: dict[str, str], tmp_path: Path) -> None:
    result = Aligner(env, tmp_path / "gone.toml")("revert", now=DURING)
    assert result.exit_code == 2 and "no theme file here" in result.stderr


def test_bad_now_is_a_usage_error(aligner: Aligner) -> None:
    result = aligner("plan", now="yesterday-ish")
    assert result.exit_code == 2
    assert "ALIGNER_NOW: 'yesterday-ish' is not a time" in result.stderr


def test_bad_at_is_a_usage_error(aligner: Aligner) -> None:
    result = aligner("plan", "--at", "soon")
    assert result.exit_code == 2
    assert "--at: 'soon' is not a time" in result.stderr


def test_bad_setting_is_a_usage_error(aligner: Aligner) -> None:
    result = aligner("plan", ALIGNER_LOCK_WAIT="forever")
    assert result.exit_code == 2
    assert "ALIGNER_LOCK_WAIT" in result.stderr


def test_a_settings_url_that_is_not_a_url(aligner: Aligner) -> None:
    result = aligner("plan", now=DURING, ALIGNER_SLACK_API_URL="not-a-url")
    assert result.exit_code == 2
    assert "ALIGNER_SLACK_API_URL: 'not-a-url' is not an http(s) URL" in result.stderr


def test_setting_messages_keep_their_case(aligner: Aligner) -> None:
    result = aligner("plan", ALIGNER_LOCK_WAIT="forever")
    assert "ALIGNER_LOCK_WAIT: input should be a valid number" in result.stderr


def test_a_state_dir_that_cannot_be_made(aligner: Aligner, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for command in ("apply", "plan", "status"):
        result = aligner(command, now=DURING, ALIGNER_STATE_DIR=str(blocker / "state"))
        assert result.exit_code == 1, command
        assert "cannot use the state directory" in result.stderr
        assert "internal error" not in result.stderr


def test_a_theme_file_that_is_not_utf8(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(
        (BASE_THEME + SLACK_SECTION).replace("Optimizing", "Optimizing \xe9").encode("latin-1")
    )
    code, stderr = run_validate(env, path)
    assert code == 2 and "not UTF-8" in stderr


def test_init_into_a_folder_or_nowhere(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for target in (folder, Path("/proc/no/such/place.toml")):
        result = CliRunner().invoke(cli, ["init", str(target), "--force"], env=env)
        assert result.exit_code == 2, target
        assert "internal error" not in result.stderr


def test_the_state_is_private_to_its_owner(aligner: Aligner, state_dir: Path) -> None:
    assert aligner("apply", now=DURING).exit_code == 0
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    for path in state_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_frozen_clock_is_said_but_not_by_a_quiet_apply(aligner: Aligner) -> None:
    assert "frozen at 2026-12-02T20:00:00Z by ALIGNER_NOW" in aligner("plan", now=DURING).stderr
    aligner("apply", now=DURING)
    assert aligner("apply", "--quiet", now=DURING).output == ""


def test_a_quiet_apply_keeps_warnings_to_itself(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    text = BASE_THEME.replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    path.write_text(text + slack("Interview prep"), encoding="utf-8")
    aligner = Aligner(env, path)
    assert "allowed by [theme] discretion" in aligner("validate").stderr
    aligner("apply", now=DURING)
    quiet = aligner("apply", "--quiet", now=DURING)
    assert quiet.exit_code == 0 and quiet.output == ""
