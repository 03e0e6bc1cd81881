"""Fixtures: the real CLI on a theme with the Teams status message only, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.microsoft.presence import PresenceService
from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner
from tests.surfaces.teams_status.helpers import presence, teams_theme


@pytest.fixture
def teams(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, teams_theme(tmp_path), sandbox)


@pytest.fixture
def service(sandbox: Sandbox) -> PresenceService:
    return presence(sandbox)
