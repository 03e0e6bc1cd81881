"""The Microsoft Teams status message surface: the theme's message during the window, expiring at
its end, then the original back. Optional: `[teams] enabled = true` turns it on."""

from aligner.surfaces.teams_status.surface import TeamsStatus

__all__ = ["TeamsStatus"]
