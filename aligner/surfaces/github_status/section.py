"""The `[github]` section of the theme file (optional, off by default)."""

from __future__ import annotations

from aligner.theme.schema import Section


class GitHubSection(Section):
    enabled: bool = False
    message: str = "{{ theme.name }}"  # a template; at most 80 characters once rendered
    emoji: str = "{{ theme.emoji }}"  # :name: form
    limited_availability: bool = False  # GitHub's "Busy" flag
    organization: str | None = None  # a login: only that organisation's members see the status
