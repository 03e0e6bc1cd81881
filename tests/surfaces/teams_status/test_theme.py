"""`[teams]`: validated before anything runs, discreet, optional, and cheap to load."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner
from tests.surfaces.teams_status.helpers import TEAMS_SECTION, teams_theme
from tests.unit.test_architecture import VENDOR_SDKS, _imported_by

TEMPLATE = "{{ theme.name }}: {{ metrics.latency | change }}"


def validate(env: dict[str, str], tmp_path: Path, sandbox: Sandbox, message: str) -> str:
    section = TEAMS_SECTION.replace(TEMPLATE, message)
    result = Aligner(env, teams_theme(tmp_path, section=section), sandbox)("validate")
    return f"{result.exit_code}|{result.output}"


def test_a_message_over_280_characters_is_refused_in_one_line(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    out = validate(env, tmp_path, sandbox, "x" * 281)
    assert out.startswith("2|")
    found = [line for line in out.splitlines() if "teams.message" in line]
    assert len(found) == 1
    assert "teams.message: renders to 281 characters; Teams allows 280" in found[0]
    assert sandbox.requests("graph") == []


def test_the_limit_counts_the_rendered_text(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    assert validate(env, tmp_path, sandbox, "x" * 280).startswith("0|")
    long = "{{ theme.name }} " + "y" * 250  # 267 as written, 30 + 1 + 250 = 281 rendered
    out = validate(env, tmp_path, sandbox, long)
    assert out.startswith("2|") and "renders to 281 characters" in out


def test_an_empty_message_is_refused_rather_than_clearing_the_status(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    out = validate(env, tmp_path, sandbox, "  ")
    assert out.startswith("2|")
    assert "teams.message: renders to empty text: setting it would clear your Teams status" in out


def test_a_slack_emoji_code_is_a_warning_because_teams_shows_it_as_typed(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    out = validate(env, tmp_path, sandbox, ":rocket: {{ theme.name }}")
    assert out.startswith("0|")
    assert "warning: teams.message: :rocket: is a Slack emoji code" in out
    assert validate(env, tmp_path, sandbox, "ratio 3:2, at 10:30").startswith("0|")
    assert "emoji code" not in validate(env, tmp_path, sandbox, "ratio 3:2, at 10:30")


def test_an_unknown_name_in_the_template_names_the_field(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    out = validate(env, tmp_path, sandbox, "{{ metrics.nope | change }}")
    assert out.startswith("2|") and "teams.message" in out


@pytest.mark.parametrize(
    ("text", "word"),
    [("Prepping for Example Corp", "Example Corp"), ("Interview day, back tomorrow", "interview")],
)
def test_discretion_refuses_a_giveaway(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, text: str, word: str
) -> None:
    out = validate(env, tmp_path, sandbox, text)
    assert out.startswith("2|")
    assert "teams.message" in out and word in out and "Teams" in out


def test_discretion_warn_lets_it_through_with_a_warning(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    path = teams_theme(tmp_path, section=TEAMS_SECTION.replace(TEMPLATE, "ExampleCorp prep"))
    path.write_text(
        path.read_text().replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    )
    result = Aligner(env, path, sandbox)("validate")
    assert result.exit_code == 0, result.output
    assert "warning: teams.message" in result.output


def test_the_section_is_off_by_default(aligner: Aligner, sandbox: Sandbox) -> None:
    """The Slack-only theme says nothing about [teams]: no Graph call is made."""
    assert aligner("apply", now="2026-12-02T20:00:00Z").exit_code == 0
    assert sandbox.requests("graph") == []


def test_validate_loads_no_http_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    teams_theme(tmp_path)
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    modules = _imported_by(["validate", "--config", "theme.toml"], tmp_path)
    assert "aligner.surfaces.teams_status.surface" in modules
    assert "aligner.vendors.microsoft.graph" not in modules
    assert "httpx" not in modules and "msal" not in modules
    assert not {m.split(".")[0] for m in modules} & set(VENDOR_SDKS)
