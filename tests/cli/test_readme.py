"""The README's commands work as written: the set-up lines, and the hand walkthrough."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from tests.conftest import flat

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SET_UP = [
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && "
    "aligner rehearse --config config/example.toml",
    "python3 -m venv .venv && . .venv/bin/activate && pip install '.[test]' && pytest",
]


def test_the_set_up_commands_make_a_virtual_environment_and_name_the_python() -> None:
    for command in SET_UP:
        assert f"\n{command}\n" in README
    assert "Python 3.11 or newer" in README


def walkthrough() -> list[str]:
    block = README.split("# terminal 2: paste those export lines, then\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def test_the_hand_walkthrough_shows_every_surface_then_preview_onepager_revert_resume(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    variables = dict(env)
    said: dict[str, str] = {}
    for line in walkthrough():
        words = shlex.split(line)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            variables[name] = value
            continue
        now = {}
        if words[0].startswith("ALIGNER_NOW="):
            now = {"ALIGNER_NOW": words.pop(0).partition("=")[2]}
        assert words[0] == "aligner"
        result = CliRunner().invoke(cli, words[1:], env={**variables, **now})
        assert result.exit_code == 0, (line, result.output)
        said[line] = flat(result.stdout)
    text = " ".join(said.values())
    assert text.count("✓ calendar create") == 4  # a block is seen being created
    assert "✓ slack set status" in text and "✓ signature set" in text
    assert "✓ note draft" in text
    assert (tmp_path / "aligner-preview.html").exists() and (tmp_path / "onepager.html").exists()
    assert "Reverted at" in text and "Resumed:" in text
    last = list(said.values())[-1]
    assert "✓ slack restore status" in last and "✓ signature restore" in last  # after the window
