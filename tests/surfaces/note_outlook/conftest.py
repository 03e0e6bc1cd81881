"""Fixtures: the real CLI on a theme whose note goes through Outlook (Microsoft Graph)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from tests.conftest import Aligner
from tests.surfaces.note_outlook.helpers import outlook_theme


@pytest.fixture
def outlook_draft(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    """The note, drafted in Outlook."""
    return Aligner(env, outlook_theme(tmp_path, "draft"), sandbox)


@pytest.fixture
def outlook_send(env: dict[str, str], tmp_path: Path, sandbox: Sandbox) -> Aligner:
    """The note, drafted in Outlook and sent."""
    return Aligner(env, outlook_theme(tmp_path, "send"), sandbox)
