"""The `[signature]` section of the theme file."""

from __future__ import annotations

from typing import Literal

from aligner.theme.schema import Section


class SignatureSection(Section):
    enabled: bool = False
    send_as: str | None = None
    mode: Literal["append", "replace"] = "append"
    html: str = "<div>{{ theme.name }}</div>"
