"""`aligner rehearse`: the whole timeline against an in-process sandbox, on a simulated clock."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aligner.app import open_session
from aligner.config import ThemeConfig
from aligner.report import local
from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox
from aligner.settings import Settings
from aligner.surfaces.base import Surface
from aligner.timeline import transitions


def steps(config: ThemeConfig) -> list[tuple[datetime, str]]:
    sched = config.schedule
    moments = [(sched.window_start - timedelta(hours=1), "before the window")]
    moments += [(t.at, t.what) for t in transitions(config)]
    moments.append((sched.window_end + timedelta(hours=1), "after the window"))
    merged: dict[datetime, list[str]] = {}
    for at, what in moments:
        merged.setdefault(at, []).append(what)
    return [(at, "; ".join(whats)) for at, whats in sorted(merged.items())]


def sandbox_settings(url: str, state_dir: Path) -> Settings:
    """Settings that point every surface at a sandbox served at `url`."""
    values: dict[str, Any] = {
        k.removeprefix("ALIGNER_").lower(): v for k, v in SANDBOX_ENV(url).items()
    }
    return Settings.model_validate({**values, "state_dir": state_dir, "lock_wait": 1})


def rehearse(config: ThemeConfig) -> Iterator[str]:
    """Yield the rehearsal as lines of text."""
    with (
        tempfile.TemporaryDirectory(prefix="aligner-rehearse-") as state_dir,
        seeded_sandbox() as box,
    ):
        settings = sandbox_settings(box.url, Path(state_dir))
        yield f"Rehearsing “{config.theme.name}” against the built-in sandbox (no network)."
        for at, what in steps(config):
            box.clock.pinned = at
            with open_session(settings, config, lock=True) as session:
                result = session.apply(at)
                yield ""
                yield f"{local(at, config.zone)} — {what} [{result.plan.phase}]"
                for outcome in result.outcomes:
                    mark = "✓" if outcome.ok else "✗"
                    yield (
                        f"  {mark} {outcome.change.surface} {outcome.change.action}: "
                        f"{outcome.change.summary}"
                    )
                for name, error in result.failed.items():
                    yield f"  ✗ {name}: {error}"
                for name, surface in session.surfaces.items():
                    if isinstance(surface, Surface):
                        records = session.store.records(name)
                        shown = surface.show(config, surface.read(config, records))
                        yield f"  {surface.title}: " + " | ".join(shown)
        yield ""
        yield "Rehearsal done: every surface is back where it started."
