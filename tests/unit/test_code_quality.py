"""The house rules that tools can check: ruff and mypy clean on the package."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_is_clean() -> None:
    lint = run("ruff", "check", "aligner", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    layout = run("ruff", "format", "--check", "aligner", "tests", "benchmarks")
    assert layout.returncode == 0, layout.stdout + layout.stderr


@pytest.mark.heavy(8)
def test_mypy_is_clean() -> None:
    """mypy's own incremental cache (.mypy_cache, git-ignored, the one `mypy` by hand uses):
    the first run in a fresh clone checks everything (about 8 s of one core), later runs only
    what changed, with or without pytest's cache (`-p no:cacheprovider`). mypy checks each
    cached module against its source, so a stale cache cannot hide an error."""
    typed = run("mypy", "--cache-dir", str(REPO / ".mypy_cache"))
    assert typed.returncode == 0, typed.stdout + typed.stderr
