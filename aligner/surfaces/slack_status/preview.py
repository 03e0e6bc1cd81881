"""How colleagues see the themed Slack status: the profile card `aligner preview` draws."""

from __future__ import annotations

from datetime import datetime

import emoji as emoji_lib

from aligner.render.text import local
from aligner.surfaces.preview_model import Showing, StatusCard
from aligner.surfaces.slack_status.section import SlackSection
from aligner.theme.schema import ThemeConfig


def drawn(code: str) -> str:
    """A Slack emoji code as a person sees it: Unicode when it is a standard emoji (Slack's
    names are mostly the GitHub/Slack aliases the `emoji` library knows), else the `:code:`
    itself (a workspace's custom emoji is an image only Slack has)."""
    if not code:
        return ""
    for language in ("alias", "en"):
        found = emoji_lib.emojize(code, language=language)
        if found != code:
            return found
    return code


def preview(config: ThemeConfig, now: datetime, name: str) -> StatusCard | None:
    from aligner.surfaces.slack_status.surface import rendered_status

    if not config.section(name, SlackSection).enabled:
        return None
    text, code = rendered_status(config)
    sched = config.schedule
    until = local(sched.window_end, sched.zone)
    when = f"from {local(sched.window_start, sched.zone)} until {until}"
    return StatusCard(drawn(code), code, text, until, Showing(sched.in_window(now), when))
