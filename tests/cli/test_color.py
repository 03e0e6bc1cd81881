"""Colour on plan/apply/revert: on a terminal, never in a pipe, NO_COLOR and --color honoured."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from tests.conftest import DURING, Aligner

ESC = "\x1b["
GREEN_PLUS = "\x1b[32m+\x1b[0m set status"


def plan(aligner: Aligner, *options: str, **env: str) -> str:
    result = CliRunner().invoke(
        cli,
        [*options, "plan", "--config", str(aligner.config)],
        env={**aligner.env, "ALIGNER_NOW": DURING, **env},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_piped_output_is_plain_and_always_paints_the_marks(aligner: Aligner) -> None:
    plain = plan(aligner)
    assert ESC not in plain and "  + set status" in plain
    painted = plan(aligner, "--color", "always")
    assert GREEN_PLUS in painted
    assert "\x1b[1mSlack status\x1b[0m" in painted  # surface headings in bold


def test_the_flag_wins_over_no_color_and_never_means_never(aligner: Aligner) -> None:
    assert GREEN_PLUS in plan(aligner, "--color", "always", NO_COLOR="1")
    assert ESC not in plan(aligner, "--color", "never")


def test_apply_and_revert_are_painted_too(aligner: Aligner) -> None:
    env = {**aligner.env, "ALIGNER_NOW": DURING}
    for command, mark in (("apply", "\x1b[32m✓\x1b[0m slack"), ("revert", "\x1b[32m✓\x1b[0m")):
        result = CliRunner().invoke(
            cli, ["--color", "always", command, "--config", str(aligner.config)], env=env
        )
        assert result.exit_code == 0, result.output
        assert mark in result.stdout


def test_json_is_never_painted(aligner: Aligner) -> None:
    result = CliRunner().invoke(
        cli,
        ["--color", "always", "plan", "--json", "--config", str(aligner.config)],
        env={**aligner.env, "ALIGNER_NOW": DURING},
    )
    assert ESC not in result.stdout
    assert json.loads(result.stdout)["phase"] == "during"


def on_a_terminal(aligner: Aligner, tmp_path: Path, **env: str) -> str:
    """`aligner plan` with its output on a pseudo-terminal, as a person runs it."""
    leader, follower = pty.openpty()
    full = {**os.environ, **aligner.env, "ALIGNER_NOW": DURING, "TERM": "xterm"}
    full.pop("NO_COLOR", None)
    full.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "aligner", "plan", "--config", str(aligner.config)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=full,
        cwd=tmp_path,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the command has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    output = b"".join(chunks).decode("utf-8")
    assert process.wait(timeout=60) == 0, output
    return output


@pytest.mark.parametrize(
    ("variables", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False), ({"NO_COLOR": ""}, True)],
    ids=["terminal", "NO_COLOR", "dumb-terminal", "empty-NO_COLOR"],
)
def test_on_a_terminal_colour_follows_the_environment(
    aligner: Aligner, tmp_path: Path, variables: dict[str, str], coloured: bool
) -> None:
    output = on_a_terminal(aligner, tmp_path, **variables)
    assert "set status" in output
    assert (ESC in output) is coloured


def test_doctor_and_status_are_painted_too(aligner: Aligner) -> None:
    env = {**aligner.env, "ALIGNER_NOW": DURING, "ALIGNER_SLACK_TOKEN": ""}
    doctor = CliRunner().invoke(
        cli, ["--color", "always", "doctor", "--config", str(aligner.config)], env=env
    )
    assert "\x1b[32m✓\x1b[0m theme:" in doctor.stdout  # a check that passed
    assert "\x1b[31m\x1b[1m✗ slack.works" in doctor.stdout  # one that failed, the whole line
    status = CliRunner().invoke(
        cli, ["--color", "always", "status", "--config", str(aligner.config)], env=env
    )
    assert status.stdout.startswith("\x1b[1m“Optimizing inference pipelines” at")
    plain = CliRunner().invoke(cli, ["doctor", "--config", str(aligner.config)], env=env)
    assert ESC not in plain.stdout
