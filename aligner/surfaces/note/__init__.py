"""The note surface: the metric-referencing pre-interview note, drafted or sent exactly once."""

from aligner.surfaces.note.surface import InterviewNote

__all__ = ["InterviewNote"]
