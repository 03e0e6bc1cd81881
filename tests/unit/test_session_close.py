"""A session closes the connections of the surfaces it connected, once, when the run ends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from aligner.core import session as session_module
from aligner.core.rehearsal import sandbox_settings
from aligner.core.session import open_session
from aligner.sandbox.server import Sandbox
from aligner.theme.validation import load_theme
from tests.conftest import REPO

EXAMPLE = REPO / "config" / "example.toml"


def test_every_surface_connected_for_a_run_is_closed_once_after_it(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    connect_all = session_module.connect_all

    def recording(*args: Any) -> Mapping[str, Any]:
        connected: Mapping[str, Any] = connect_all(*args)
        for name, surface in connected.items():
            original = surface.close

            def close(name: str = name, original: Any = original) -> None:
                closed.append(name)
                original()

            monkeypatch.setattr(surface, "close", close)
        return connected

    monkeypatch.setattr(session_module, "connect_all", recording)
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    at = config.schedule.window_start + timedelta(minutes=1)
    sandbox.clock.pinned = at
    with open_session(settings, config, lock=True, busy_at=at) as session:
        assert not session.apply(at).failed
        assert closed == []  # nothing closed while the run goes on
    assert sorted(closed) == sorted(session.surfaces)
    assert len(closed) >= 3


def test_a_run_that_fails_still_closes_its_connections(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    monkeypatch.setattr(session_module, "close_all", lambda surfaces: closed.extend(surfaces))
    config = load_theme(EXAMPLE).config
    settings = sandbox_settings(sandbox.url, tmp_path / "state")
    with (
        pytest.raises(RuntimeError),
        open_session(settings, config, lock=True, readonly=False) as session,
    ):
        assert session.surfaces
        raise RuntimeError("the run failed")
    assert closed
