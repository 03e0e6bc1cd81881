"""How colleagues see the themed Teams status message: the card `aligner preview` draws."""

from __future__ import annotations

from datetime import datetime

from aligner.render.text import local
from aligner.surfaces.preview_model import Showing, StatusCard
from aligner.theme.schema import ThemeConfig


def preview(config: ThemeConfig, now: datetime) -> StatusCard | None:
    from aligner.surfaces.teams_status.surface import rendered_message, section

    if not section(config).enabled:
        return None
    text = rendered_message(config)
    sched = config.schedule
    until = local(sched.window_end, sched.zone)
    when = f"from {local(sched.window_start, sched.zone)} until {until}; colleagues see it in Teams"
    return StatusCard("", "", text, until, Showing(sched.in_window(now), when))
