"""How visitors of the GitHub profile see the themed status: the card `aligner preview` draws."""

from __future__ import annotations

from datetime import datetime

from aligner.render.text import local
from aligner.surfaces.preview_model import Showing, StatusCard, drawn_emoji
from aligner.theme.schema import ThemeConfig


def preview(config: ThemeConfig, now: datetime) -> StatusCard | None:
    from aligner.surfaces.github_status.surface import rendered_status, section

    github = section(config)
    if not github.enabled:
        return None
    text, code = rendered_status(config)
    if github.limited_availability:
        text = f"{text} (busy)"
    sched = config.schedule
    until = local(sched.window_end, sched.zone)
    when = f"from {local(sched.window_start, sched.zone)} until {until}"
    if github.organization:
        when += f"; visible to members of {github.organization} only"
    return StatusCard(drawn_emoji(code), code, text, until, Showing(sched.in_window(now), when))
