"""`aligner --help` teaches the workflow in order and what the exit codes mean."""

from __future__ import annotations

from click.testing import CliRunner

from aligner.cli import COMMANDS, cli

WORKFLOW = ["init", "validate", "rehearse", "plan", "apply", "revert", "resume"]


def help_text() -> str:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_commands_are_listed_in_workflow_order_then_the_rest() -> None:
    text = help_text()
    commands = text.split("Commands:\n", 1)[1]
    listed = [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]
    listed = [name for name in listed if name in COMMANDS]
    assert listed[: len(WORKFLOW)] == WORKFLOW
    assert sorted(listed) == sorted(COMMANDS)  # every command, each once
    assert "init → validate → rehearse → plan → apply → revert → resume" in text


def test_help_explains_every_exit_code() -> None:
    text = help_text()
    codes = text.split("Exit codes:", 1)[1]
    for code, meaning in [
        ("0", "success"),
        ("1", "a surface failed"),
        ("2", "configuration error"),
        ("3", "changes are pending"),
    ]:
        line = next(line for line in codes.splitlines() if line.strip().startswith(code + " "))
        assert meaning in line
