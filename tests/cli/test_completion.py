"""`aligner completion SHELL` prints a script that really completes aligner's commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli

BIN = Path(sys.executable).parent


def script(shell: str) -> str:
    result = CliRunner().invoke(cli, ["completion", shell], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_its_script(shell: str) -> None:
    text = script(shell)
    assert f"_ALIGNER_COMPLETE={shell}_complete" in text


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.output


@pytest.mark.skipif(
    not (shutil.which("bash") and (BIN / "aligner").exists()),
    reason="needs bash and the installed `aligner` command (pip install -e .)",
)
def test_bash_completes_commands_and_options(tmp_path: Path) -> None:
    (tmp_path / "aligner.bash").write_text(script("bash"), encoding="utf-8")

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        program = (
            f"source {tmp_path / 'aligner.bash'}\n"
            f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
            "_aligner_completion aligner\n"
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        result = subprocess.run(
            ["bash", "-c", program], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return sorted(result.stdout.split())

    assert complete("aligner", "pre") == ["preview"]
    assert "onepager" in complete("aligner", "")
    assert complete("aligner", "preview", "--o") == ["--open", "--out"]
    assert complete("aligner", "completion", "") == ["bash", "fish", "zsh"]
