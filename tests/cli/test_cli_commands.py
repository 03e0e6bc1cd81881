"""init, timeline, status, rehearse and sandbox: the commands around plan/apply."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from click.testing import CliRunner

from aligner.cli import cli
from aligner.theme.starter import EXAMPLE_DATE, starter_text
from tests.conftest import AFTER, BEFORE, DURING, REPO, Aligner


def test_example_is_the_starter_file() -> None:
    example = (REPO / "config" / "example.toml").read_text(encoding="utf-8")
    assert example == starter_text(EXAMPLE_DATE)
    data = tomllib.loads(example)
    assert data["theme"]["name"] == "Optimizing inference pipelines"
    assert {m["id"] for m in data["metrics"]} == {"latency", "throughput", "cost"}


def test_init_writes_a_valid_annotated_theme(tmp_path: Path, env: dict[str, str]) -> None:
    target = tmp_path / "mine" / "theme.toml"
    result = CliRunner().invoke(cli, ["init", str(target)], env=env)
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert_every_key_is_commented(text)
    assert Aligner(env, target)("validate").exit_code == 0
    again = CliRunner().invoke(cli, ["init", str(target)], env=env)
    assert again.exit_code == 2 and "already exists" in again.stderr


def assert_every_key_is_commented(text: str) -> None:
    """Each `key = value` line carries a comment, or the line just above it is one."""
    lines = text.splitlines()
    in_string = False
    for number, line in enumerate(lines):
        if line.count('"""') % 2:
            was_in_string, in_string = in_string, not in_string
            if was_in_string:
                continue
        elif in_string:
            continue
        if re.match(r"^[a-z_]+ = ", line):
            above = lines[number - 1].lstrip() if number else ""
            assert "#" in line or above.startswith("#"), f"uncommented key: {line}"


def test_init_defaults_to_config_theme_toml(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["init"], env=env)
    assert result.exit_code == 0
    assert Path("config/theme.toml").exists()


def test_timeline_is_in_the_theme_timezone(aligner: Aligner) -> None:
    result = aligner("timeline")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Wed 02 Dec 2026 10:00 PST  Slack status set"
    assert "Thu 03 Dec 2026 10:00 PST  interview starts" in lines
    assert lines[-1].endswith("window ends")


def test_status_before_anything_happened(aligner: Aligner) -> None:
    result = aligner("status", now=BEFORE)
    assert result.exit_code == 0
    assert "phase: before" in result.stdout
    assert "Nothing applied yet." in result.stdout
    assert "window starts" in result.stdout


def test_status_reports_last_apply_and_conflicts(aligner: Aligner) -> None:
    aligner("apply", now=DURING)
    data = json.loads(aligner("status", "--json", now=DURING).stdout)
    assert data["phase"] == "during"
    assert data["surfaces"]["slack"]["last"]["outcome"] == "applied"
    assert data["surfaces"]["slack"]["items"] == {"status": "active"}
    assert aligner.sandbox is not None
    aligner.sandbox.service("slack").set_status("U0ALIGNER", "Lunch", ":sandwich:")
    aligner("apply", now=DURING)
    text = aligner("status", now=DURING).stdout
    assert "! conflict on status" in text
    aligner("apply", now=AFTER)
    assert json.loads(aligner("status", "--json", now=AFTER).stdout)["next"] == []


def test_status_makes_no_api_calls(aligner: Aligner) -> None:
    aligner("apply", now=DURING)
    assert aligner.sandbox is not None
    aligner.sandbox.clear_log()
    aligner("status", now=DURING)
    assert aligner.sandbox.requests() == []


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ALIGNER_") and not k.lower().endswith("_proxy")
    }
    return {**env, **extra}


def test_rehearse_needs_no_network_and_no_account(tmp_path: Path) -> None:
    # Any attempt to leave the machine would go to a dead proxy and fail.
    env = clean_env(
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        ALIGNER_STATE_DIR=str(tmp_path / "untouched"),
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "aligner",
            "rehearse",
            "--config",
            str(REPO / "config" / "example.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    flat = " ".join(run.stdout.split())  # lines wrap at 100 columns in a pipe
    assert "Optimizing inference pipelines: p50 latency 28 ms → 19 ms (−32%)" in flat
    assert "✓ slack restore status" in flat and "✓ signature restore" in flat
    assert not (tmp_path / "untouched").exists()  # rehearsals keep their state to themselves


def test_sandbox_command_serves_and_prints_the_environment(tmp_path: Path, theme: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "aligner", "sandbox", "--port", "0"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert server.stdout is not None
        exports: dict[str, str] = {}
        while "ALIGNER_STATE_DIR" not in exports:
            line = server.stdout.readline()
            assert line, server.stderr.read() if server.stderr else ""
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                exports[name] = value
        state_dir = Path(exports["ALIGNER_STATE_DIR"])
        assert state_dir.is_dir()  # its own throwaway state, never the real one
        env = {**exports, "NO_PROXY": "127.0.0.1,localhost"}
        result = Aligner(env, theme)("apply", "--json", now=DURING)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["changes"][0]["surface"] == "slack"
        assert (state_dir / "state.db").exists()
    finally:
        server.terminate()
        server.communicate(timeout=10)  # also closes the pipes
    assert server.returncode == 0
    assert not state_dir.exists()  # forgotten with the sandbox


def test_sandbox_on_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "aligner", "sandbox", "--port", str(port)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert run.returncode == 1
    assert "choose another --port" in run.stderr and "Traceback" not in run.stderr


def test_a_broken_state_database_is_one_clear_line(aligner: Aligner, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "state.db").write_text("this is not a database", encoding="utf-8")
    plain = aligner("apply", now=DURING)
    assert plain.exit_code == 2  # a person must move it aside: retrying will not help
    assert "Traceback" not in plain.output
    assert "cannot use the state database" in plain.stderr
    errors = [line for line in plain.stderr.splitlines() if not line.startswith("note:")]
    assert len(errors) == 1


def test_debug_shows_the_traceback_without_secrets(aligner: Aligner, state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "state.db").write_text("this is not a database", encoding="utf-8")
    result = aligner("--debug", "apply", now=DURING)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    bad_token = aligner("--debug", "apply", now=DURING, ALIGNER_SLACK_TOKEN="xoxp-debug-secret")
    assert "xoxp-debug-secret" not in bad_token.output
