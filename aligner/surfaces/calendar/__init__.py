"""The calendar surface: focus-time blocks for the prep day, idempotent, never duplicated."""

from aligner.surfaces.calendar.surface import CalendarBlocks

__all__ = ["CalendarBlocks"]
