"""Two runs at the same moment never interleave: the lock serialises them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from aligner.state.lock import exclusive
from tests.conftest import DURING, Aligner


def spawn(env: dict[str, str], theme: Path, *args: str) -> subprocess.Popen[str]:
    full = {**os.environ, **env, "ALIGNER_NOW": DURING}
    return subprocess.Popen(
        [sys.executable, "-m", "aligner", *args, "--config", str(theme)],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.heavy(3)
def test_concurrent_applies_make_one_write(
    env: dict[str, str], theme: Path, sandbox: Sandbox
) -> None:
    from datetime import datetime

    sandbox.clock.pinned = datetime.fromisoformat(DURING)
    sandbox.inject("users.profile.get", "latency", seconds=0.5, times=5)
    runs = [spawn(env, theme, "apply") for _ in range(3)]
    results = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], results
    assert len(sandbox.requests("slack", "users.profile.set")) == 1


def test_a_held_lock_makes_apply_exit_1_with_a_clear_message(
    aligner: Aligner, state_dir: Path, sandbox: Sandbox
) -> None:
    with exclusive(state_dir / "aligner.lock", 1):
        result = aligner("apply", now=DURING, ALIGNER_LOCK_WAIT="0.2")
    assert result.exit_code == 1
    assert "another aligner run" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    assert sandbox.requests("slack", "users.profile.set") == []


def test_python_dash_m_works(env: dict[str, str], theme: Path) -> None:
    run = spawn(env, theme, "validate")
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "valid" in out
