"""The house rules that tools can check: ruff and mypy clean on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_is_clean() -> None:
    lint = run("ruff", "check", "aligner", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    layout = run("ruff", "format", "--check", "aligner", "tests", "benchmarks")
    assert layout.returncode == 0, layout.stdout + layout.stderr


def test_mypy_is_clean(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The cache lives in pytest's cache dir, so a second run is quick (a fresh dir without it)."""
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir("mypy") if cache is not None else tmp_path / "mypy-cache"
    typed = run("mypy", "--cache-dir", str(folder))
    assert typed.returncode == 0, typed.stdout + typed.stderr
