"""`aligner rehearse`: the whole timeline against an in-process sandbox, on a simulated clock."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aligner.core.model import ApplyResult
from aligner.core.session import Session, open_session
from aligner.core.timeline import transitions
from aligner.errors import SurfaceError
from aligner.render.text import local
from aligner.sandbox.seed import SANDBOX_ENV, seeded_sandbox
from aligner.state.settings import Settings
from aligner.surfaces.base import Surface
from aligner.theme.schema import ThemeConfig


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
    return Settings.isolated({**values, "state_dir": state_dir, "lock_wait": 1})


def rehearse(config: ThemeConfig) -> Iterator[str]:
    """Yield the rehearsal as lines of text; raise SurfaceError at the end if a step failed."""
    with (
        tempfile.TemporaryDirectory(prefix="aligner-rehearse-") as state_dir,
        seeded_sandbox() as box,
    ):
        settings = sandbox_settings(box.url, Path(state_dir))
        yield f"Rehearsing “{config.theme.name}” against the built-in sandbox (no network)."
        timeline = steps(config)
        box.clock.pinned = timeline[0][0]
        with open_session(settings, config, lock=False, readonly=True) as session:
            first = _what_surfaces_show(session, config)  # before aligner changed anything
        yield ""
        yield "Before aligner runs:"
        for title, lines in first.items():
            yield f"  {title}: " + " | ".join(lines)
        shown: dict[str, list[str]] = {}
        failures: list[str] = []
        said: set[str] = set()
        for at, what in timeline:
            box.clock.pinned = at
            with open_session(settings, config, lock=True) as session:
                result = session.apply(at)
                yield ""
                yield f"{local(at, config.zone)} — {what} [{result.plan.phase}]"
                yield from _outcome_lines(result, said)
                failures += [f"{name}: {error}" for name, error in result.failed.items()]
                shown = _what_surfaces_show(session, config)
            for title, lines in shown.items():
                yield f"  {title}: " + " | ".join(lines)
        yield ""
        yield from _summary(first, shown)
        if failures:
            raise SurfaceError("the rehearsal hit failures: " + "; ".join(failures))


def _outcome_lines(result: ApplyResult, said: set[str]) -> Iterator[str]:
    """✓ a write, ✗ a failure, · a notice (each notice once: the same one every step is noise)."""
    for outcome in result.outcomes:
        change = outcome.change
        mark = "✗" if not outcome.ok else "✓" if change.writes else "·"
        detail = change.summary if outcome.ok else outcome.detail
        line = f"  {mark} {change.surface} {change.action} {change.key}: {detail}"
        if mark == "·" and line in said:
            continue
        said.add(line)
        yield line
        yield from (f"      note: {note}" for note in outcome.notes)
    for name, error in result.plan.errors.items():
        yield f"  ✗ {name}: {error}"


def _what_surfaces_show(session: Session, config: ThemeConfig) -> dict[str, list[str]]:
    shown = {}
    for name, surface in session.surfaces.items():
        if isinstance(surface, Surface):
            current = surface.read(config, session.store.records(name))
            shown[surface.title] = surface.show(config, current)
    return shown


def _summary(first: dict[str, list[str]], last: dict[str, list[str]]) -> Iterator[str]:
    yield "After the window:"
    for title, lines in last.items():
        if lines == first.get(title):
            yield f"  ✓ {title}: back to how it was before aligner ran"
        else:
            yield f"  • {title}: " + " | ".join(lines)
