"""`[github]`: validated before anything runs, discreet, optional, and cheap to load."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner
from tests.surfaces.github_status.helpers import GITHUB_SECTION, github_theme
from tests.unit.test_architecture import VENDOR_SDKS, _imported_by


def validate(env: dict[str, str], tmp_path: Path, sandbox: Sandbox, section: str) -> str:
    result = Aligner(env, github_theme(tmp_path, section=section), sandbox)("validate")
    return f"{result.exit_code}|{result.output}"


def test_a_message_over_80_characters_is_refused(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    section = GITHUB_SECTION.replace(
        'message = "{{ theme.name }}: {{ metrics.latency | change }}"', f'message = "{"x" * 81}"'
    )
    out = validate(env, tmp_path, sandbox, section)
    assert out.startswith("2|")
    assert "github.message: renders to 81 characters; GitHub allows 80" in out


def test_exactly_80_characters_is_fine(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    section = GITHUB_SECTION.replace(
        'message = "{{ theme.name }}: {{ metrics.latency | change }}"', f'message = "{"x" * 80}"'
    )
    assert validate(env, tmp_path, sandbox, section).startswith("0|")


def test_the_emoji_must_be_a_code(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> None:
    out = validate(env, tmp_path, sandbox, GITHUB_SECTION.replace('":rocket:"', '"rocket"'))
    assert out.startswith("2|") and "github.emoji" in out and ":name:" in out


def test_the_organization_must_be_a_login(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    out = validate(env, tmp_path, sandbox, GITHUB_SECTION + 'organization = "not a login"\n')
    assert out.startswith("2|") and "github.organization" in out


@pytest.mark.parametrize(
    ("text", "word"),
    [("Prepping for Example Corp", "Example Corp"), ("Interview day", "interview")],
)
def test_discretion_refuses_a_giveaway(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox, text: str, word: str
) -> None:
    section = GITHUB_SECTION.replace("{{ theme.name }}: {{ metrics.latency | change }}", text)
    out = validate(env, tmp_path, sandbox, section)
    assert out.startswith("2|")
    assert "github.message" in out and word in out and "public" in out


def test_discretion_warn_lets_it_through_with_a_warning(
    env: dict[str, str], tmp_path: Path, sandbox: Sandbox
) -> None:
    section = GITHUB_SECTION.replace(
        "{{ theme.name }}: {{ metrics.latency | change }}", "Example Corp prep"
    )
    path = github_theme(tmp_path, section=section)
    path.write_text(
        path.read_text().replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    )
    result = Aligner(env, path, sandbox)("validate")
    assert result.exit_code == 0, result.output
    assert "warning: github.message" in result.output


def test_the_section_is_off_by_default(aligner: Aligner, sandbox: Sandbox) -> None:
    """The Slack-only theme says nothing about [github]: no GitHub call is made."""
    assert aligner("apply", now="2026-12-02T20:00:00Z").exit_code == 0
    assert sandbox.requests("github") == []


def test_validate_loads_no_http_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    github_theme(tmp_path)
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    modules = _imported_by(["validate", "--config", "theme.toml"], tmp_path)
    assert "aligner.surfaces.github_status.surface" in modules
    assert "aligner.surfaces.github_status.client" not in modules
    assert "urllib.request" not in modules
    assert not {m.split(".")[0] for m in modules} & set(VENDOR_SDKS)


def test_plan_loads_the_client_and_still_no_vendor_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    from aligner.sandbox.seed import SANDBOX_ENV

    github_theme(tmp_path)
    for name, value in {**SANDBOX_ENV(sandbox.url), "ALIGNER_NOW": "-2h"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ALIGNER_STATE_DIR", str(tmp_path / "state"))
    modules = _imported_by(["plan", "--config", "theme.toml"], tmp_path)
    assert "aligner.surfaces.github_status.client" in modules
    assert sandbox.requests("github", "github.viewer")
    assert not {m.split(".")[0] for m in modules} & set(VENDOR_SDKS)
