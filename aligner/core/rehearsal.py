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


def rehearse(config: ThemeConfig, width: int = 100) -> Iterator[str]:
    """Yield the rehearsal as lines of text, headings and table cut to `width` columns; raise
    SurfaceError at the end if a step failed.

    Each step says only what changed; a long preview (the note, a signature) appears once, where
    it first appears; a table at the end shows every surface before, during and after."""
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
        shown = during = first
        failures: list[str] = []
        said: set[object] = set()
        quiet_before: bool | None = None
        for at, what in timeline:
            box.clock.pinned = at
            with open_session(settings, config, lock=True) as session:
                result = session.apply(at)
                lines = list(_outcome_lines(result, said))
                failures += [f"{name}: {error}" for name, error in result.failed.items()]
                shown = _what_surfaces_show(session, config)
            if result.plan.phase == "during":
                during = shown
            when = at.astimezone(config.zone).strftime("%a %d %b %H:%M %Z")
            head = f"{when} [{result.plan.phase}] {what}"
            if lines or quiet_before is not True:
                yield ""  # a blank line before each step, and before a run of quiet ones
            quiet_before = not lines
            yield _fit(head, width) if lines else _fit(f"{head} — nothing to change", width)
            yield from lines
        yield ""
        yield from summary_table(first, during, shown, width)
        if failures:
            raise SurfaceError("the rehearsal hit failures: " + "; ".join(failures))


def _outcome_lines(result: ApplyResult, said: set[object]) -> Iterator[str]:
    """What changed: ✓ a write, ✗ a failure, ! a conflict, each on one line; a surface's preview
    (the note in full, the signature's text) only the first time that surface has one. Other
    notices say nothing new at each step, so they are left to `plan`."""
    for outcome in result.outcomes:
        change = outcome.change
        preview = () if change.surface in said else change.preview
        if outcome.ok and not change.writes and not change.is_conflict and not preview:
            continue
        mark = (
            "✗" if not outcome.ok else "✓" if change.writes else "!" if change.is_conflict else "·"
        )
        detail = change.summary if outcome.ok else outcome.detail
        yield f"  {mark} {change.surface} {change.action} {change.key}: {detail}"
        yield from (f"      note: {note}" for note in outcome.notes)
        if preview:
            said.add(change.surface)
            yield from (f"      │ {text}" for text in preview if _readable(text))
    for name, error in result.plan.errors.items():
        yield f"  ✗ {name}: {error}"


def _fit(line: str, width: int = 100) -> str:
    """One line for a step's heading (the changes under it say it in full)."""
    return line if len(line) <= width else line[: width - 1] + "…"


def _readable(text: str) -> bool:
    """Preview lines worth a rehearsal's space: no blank lines, no raw HTML (the text says it)."""
    bare = text.strip()
    return bool(bare) and not bare.startswith(("html:", "<"))


def _what_surfaces_show(session: Session, config: ThemeConfig) -> dict[str, list[str]]:
    shown = {}
    for name, surface in session.surfaces.items():
        if isinstance(surface, Surface):
            current = surface.read(config, session.store.records(name))
            shown[surface.title] = surface.show(config, current)
    return shown


def _text(lines: list[str]) -> str:
    return lines[0] if lines else "(nothing)"


def _cell(lines: list[str], width: int, was: str = "") -> str:
    """The first line (and how many more), cut to `width`; where it begins as `was` does, the
    part that differs, so a changed cell does not look like its neighbour."""
    text = _text(lines)
    same = next(
        (i for i, (a, b) in enumerate(zip(text, was, strict=False)) if a != b),
        min(len(text), len(was)),
    )
    if was and same > width // 2:
        text = "…" + text[text.rfind(" ", 0, same) + 1 :]
    more = f" (+{len(lines) - 1})" if len(lines) > 1 else ""
    room = width - len(more)
    return (text if len(text) <= room else text[: room - 1] + "…") + more


def summary_table(
    before: dict[str, list[str]],
    during: dict[str, list[str]],
    after: dict[str, list[str]],
    width: int = 100,
) -> Iterator[str]:
    """Surfaces down the side; what each shows before, during and after the window across."""
    label = max([len(t) for t in before] + [7]) + 2
    column = (width - label - 2) // 3 - 2
    titles = ("before", "during", "after")
    yield "".join([" " * label] + [f"{t:<{column}}  " for t in titles]).rstrip()
    for title, was in before.items():
        now, last = during.get(title, []), after.get(title, [])
        cells = [
            _cell(was, column),
            "unchanged" if now == was else _cell(now, column, _text(was)),
            "✓ as before"
            if last == was
            else "as during"
            if last == now
            else _cell(last, column, _text(now)),
        ]
        yield "".join([f"{title:<{label}}"] + [f"{c:<{column}}  " for c in cells]).rstrip()
