"""The explicit registry of surfaces, in the order plans show them."""

from __future__ import annotations

from aligner.surfaces.base import Surface
from aligner.surfaces.calendar.surface import CalendarBlocks
from aligner.surfaces.note.surface import InterviewNote
from aligner.surfaces.signature.surface import GmailSignature
from aligner.surfaces.slack_status.surface import SlackStatus

REGISTRY: tuple[type[Surface], ...] = (SlackStatus, CalendarBlocks, GmailSignature, InterviewNote)


def by_name(name: str) -> type[Surface]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    raise KeyError(name)
