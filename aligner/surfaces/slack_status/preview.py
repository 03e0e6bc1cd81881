"""How colleagues see the themed Slack status: the profile card `aligner preview` draws."""

from __future__ import annotations

from datetime import datetime

from aligner.render.text import local
from aligner.surfaces.preview_model import Showing, StatusCard, drawn_emoji
from aligner.surfaces.slack_status.section import SlackSection
from aligner.theme.schema import ThemeConfig


def preview(config: ThemeConfig, now: datetime, name: str) -> StatusCard | None:
    from aligner.surfaces.slack_status.surface import rendered_status

    if not config.section(name, SlackSection).enabled:
        return None
    text, code = rendered_status(config)
    sched = config.schedule
    until = local(sched.window_end, sched.zone)
    when = f"from {local(sched.window_start, sched.zone)} until {until}"
    return StatusCard(drawn_emoji(code), code, text, until, Showing(sched.in_window(now), when))
