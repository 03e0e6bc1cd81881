"""The GitHub profile status surface: the theme's message and emoji during the window, then the
original back. Optional: `[github] enabled = true` turns it on."""

from aligner.surfaces.github_status.surface import GitHubStatus

__all__ = ["GitHubStatus"]
