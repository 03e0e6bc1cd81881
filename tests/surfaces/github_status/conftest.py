"""Fixtures: the real CLI on a theme with the GitHub status only, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner
from tests.surfaces.github_status.helpers import github_theme


@pytest.fixture
def gh(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    return Aligner(env, github_theme(tmp_path), sandbox)
