"""The calendar surface: blocks for the prep day, idempotent, never duplicated.

On Google Calendar (surface.py, api.py: focus time where the account has it) or, with
`[calendar] provider = "microsoft"`, on Outlook through Microsoft Graph (outlook.py,
outlook_api.py, outlook_events.py: busy events). Both plan with the same BlockPlanner (diff.py).
"""

from aligner.surfaces.calendar.surface import CalendarBlocks

__all__ = ["CalendarBlocks"]
