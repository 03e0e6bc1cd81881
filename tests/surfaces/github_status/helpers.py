"""A theme with only the GitHub status on, and what the sandbox's GitHub person shows."""

from __future__ import annotations

from pathlib import Path

from aligner.sandbox.server import Sandbox
from tests.conftest import write_theme

GITHUB_SECTION = """
[slack]
enabled = false

[github]
enabled = true
message = "{{ theme.name }}: {{ metrics.latency | change }}"
emoji = ":rocket:"
limited_availability = true
"""
THEMED = "Optimizing inference pipelines: 28 ms → 19 ms (−32%)"
WINDOW_END = "2026-12-03T19:00:00+00:00"
ORIGINAL = {
    "message": "Working from home",
    "emoji": ":house_with_garden:",
    "expiresAt": None,
    "limited": False,
    "organization": None,
}


def github_theme(folder: Path, *extra: str, section: str = GITHUB_SECTION) -> Path:
    return write_theme(folder / "theme.toml", section, *extra)


def writes(sandbox: Sandbox) -> int:
    return len(sandbox.requests("github", "github.changeUserStatus"))
