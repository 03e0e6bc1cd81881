"""The explicit registry of surfaces, in the order plans show them."""

from __future__ import annotations

from aligner.surfaces.base import Surface
from aligner.surfaces.calendar_blocks import CalendarBlocks
from aligner.surfaces.gmail_signature import GmailSignature
from aligner.surfaces.interview_note import InterviewNote
from aligner.surfaces.slack_status import SlackStatus

REGISTRY: tuple[type[Surface], ...] = (SlackStatus, CalendarBlocks, GmailSignature, InterviewNote)


def by_name(name: str) -> type[Surface]:
    for cls in REGISTRY:
        if cls.name == name:
            return cls
    raise KeyError(name)
