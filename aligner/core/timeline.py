"""Every transition of a theme, in time order (for `timeline`, `status` and the scheduler)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aligner.surfaces import REGISTRY
from aligner.theme.schema import ThemeConfig


@dataclass(frozen=True, order=True)
class Transition:
    at: datetime
    what: str


def transitions(config: ThemeConfig) -> list[Transition]:
    sched = config.schedule
    found = {
        Transition(sched.window_start, "window starts"),
        Transition(sched.window_end, "window ends"),
        Transition(sched.interview_start, "interview starts"),
        Transition(sched.interview_end, "interview ends"),
    }
    for cls in REGISTRY:
        if cls.enabled(config):
            found.update(Transition(at, what) for at, what in cls.transitions(config))
    return sorted(found)


def next_transitions(config: ThemeConfig, now: datetime) -> list[Transition]:
    return [t for t in transitions(config) if t.at > now]
