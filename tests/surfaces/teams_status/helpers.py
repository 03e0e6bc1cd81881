"""A theme with only the Teams status message on, and what the sandbox's Teams person shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aligner.sandbox.microsoft.presence import PresenceService
from aligner.sandbox.server import Sandbox
from tests.conftest import write_theme

TEAMS_SECTION = """
[slack]
enabled = false

[teams]
enabled = true
message = "{{ theme.name }}: {{ metrics.latency | change }}"
"""
THEMED = "Optimizing inference pipelines: 28 ms → 19 ms (−32%)"
WINDOW_END = "2026-12-03T19:00:00+00:00"
ORIGINAL = {"content": "Working from the Lisbon office this week", "expires": None}
SET = "presence.setStatusMessage"


def teams_theme(folder: Path, *extra: str, section: str = TEAMS_SECTION) -> Path:
    return write_theme(folder / "theme.toml", section, *extra)


def presence(sandbox: Sandbox) -> PresenceService:
    """The sandbox's presence service (several Graph services share the name "graph")."""
    return next(s for s in sandbox.services if isinstance(s, PresenceService))


def writes(sandbox: Sandbox) -> int:
    return len(sandbox.requests("graph", SET))


def sent(sandbox: Sandbox, index: int = -1) -> Any:
    """The JSON body of a setStatusMessage request the sandbox saw."""
    return json.loads(sandbox.requests("graph", SET)[index].body)
