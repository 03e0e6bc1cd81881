"""`-c`/`--config` before the command or after it: the same theme file either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aligner.cli import cli
from tests.conftest import DURING, Aligner


def run(aligner: Aligner, *args: str) -> Result:
    env = {**aligner.env, "ALIGNER_NOW": DURING, "ALIGNER_CONFIG": "/nonexistent/theme.toml"}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(
    "args",
    [
        ("-c", "{}", "plan"),
        ("--config", "{}", "plan"),
        ("plan", "--config", "{}"),
        ("plan", "-c", "{}"),
    ],
)
def test_the_theme_file_may_be_named_before_or_after_the_command(
    aligner: Aligner, args: tuple[str, ...]
) -> None:
    result = run(aligner, *(arg.format(aligner.config) for arg in args))
    assert result.exit_code == 0, result.output
    assert "+ set status" in result.stdout


def test_the_one_after_the_command_wins(aligner: Aligner, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(aligner.config.read_text().replace("Optimizing inference", "Another"))
    result = run(aligner, "-c", str(other), "plan", "--config", str(aligner.config))
    assert result.exit_code == 0, result.output
    assert "“Optimizing inference pipelines" in result.stdout
    assert "“Another pipelines" in run(aligner, "plan", "-c", str(other)).stdout


def test_a_missing_file_named_before_the_command_is_one_line_and_exit_2(
    aligner: Aligner, tmp_path: Path
) -> None:
    result = run(aligner, "-c", str(tmp_path / "missing.toml"), "validate")
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr
