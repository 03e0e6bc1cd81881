"""The `[slack]` section of the theme file."""

from __future__ import annotations

from aligner.theme.schema import Section


class SlackSection(Section):
    enabled: bool = True
    status_text: str = "{{ theme.name }}"
    status_emoji: str = "{{ theme.emoji }}"
