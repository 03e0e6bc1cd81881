"""The `[teams]` section of the theme file (optional, off by default)."""

from __future__ import annotations

from aligner.theme.schema import Section


class TeamsSection(Section):
    enabled: bool = False
    message: str = "{{ theme.name }}"  # a template; plain text, at most 280 characters rendered
