"""The Slack status surface: the theme's text and emoji during the window, then the original."""

from aligner.surfaces.slack_status.surface import SlackStatus

__all__ = ["SlackStatus"]
