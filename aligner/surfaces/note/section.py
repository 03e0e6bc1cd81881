"""The `[note]` section of the theme file."""

from __future__ import annotations

from typing import Literal

from aligner.theme.schema import Section, TimeText


class NoteSection(Section):
    enabled: bool = False
    delivery: Literal["draft", "send"] = "draft"
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = "Tomorrow: {{ theme.name }}"
    body: str = ""
    send_at: TimeText = "-16h"
    include_signature: bool = True
    resend: bool = False  # deliver again after the interview's company or time changed
