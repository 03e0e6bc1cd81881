"""The themed signature as `aligner preview` draws it: the sanitised HTML the mail gets."""

from __future__ import annotations

from datetime import datetime

from aligner.render.text import local
from aligner.surfaces.preview_model import Showing, SignatureCard
from aligner.surfaces.signature.html import html_to_text, signature_section, themed_block
from aligner.theme.schema import ThemeConfig


def preview(config: ThemeConfig, now: datetime) -> SignatureCard | None:
    section = signature_section(config)
    if not section.enabled:
        return None
    block = themed_block(config)
    sched = config.schedule
    start, end = local(sched.window_start, sched.zone), local(sched.window_end, sched.zone)
    when = f"from {start} until {end}"
    placement = (
        "after your own signature, on every email you write"
        if section.mode == "append"
        else "instead of your own signature, on every email you write"
    )
    return SignatureCard(block, html_to_text(block), placement, Showing(sched.in_window(now), when))
