"""The calendar blocks as `aligner preview` draws them: as colleagues and as you see them."""

from __future__ import annotations

from datetime import datetime

from aligner.surfaces.calendar.events import (
    FOCUS,
    PRIVATE,
    block_view,
    calendar_section,
    moment,
    on_outlook,
)
from aligner.surfaces.preview_model import AgendaCard, AgendaEntry
from aligner.theme.schema import ThemeConfig

DECLINES = {
    "declineNone": "",
    "declineOnlyNewConflictingInvitations": "new invitations during a block are declined",
    "declineAllConflictingInvitations": "every invitation during a block is declined",
}


def preview(config: ThemeConfig, now: datetime) -> AgendaCard | None:
    section = calendar_section(config)
    if not section.enabled:
        return None
    zone = config.zone
    entries: list[tuple[datetime, AgendaEntry]] = []
    for index, block in enumerate(section.blocks):
        view = block_view(config, index, block)
        if on_outlook(config):
            from aligner.surfaces.calendar.outlook_events import outlook_view

            view = outlook_view(view)
        start, end = moment(view["start"]).astimezone(zone), moment(view["end"]).astimezone(zone)
        entries.append(
            (
                start,
                AgendaEntry(
                    day=f"{start:%a %d %b %Y}",
                    start=f"{start:%H:%M}",
                    end=f"{end:%H:%M}",
                    title=view["title"],
                    description=view["description"],
                    private=view["visibility"] in PRIVATE,  # Outlook's sensitivity too
                    kind="Focus time" if view["type"] == FOCUS else "Busy",
                    started=start <= now,
                ),
            )
        )
    entries.sort(key=lambda pair: pair[0])
    note = ""
    if section.event_type == FOCUS and DECLINES[section.auto_decline] and not on_outlook(config):
        focus = block_view(config, 0, section.blocks[0])["focus"] if section.blocks else None
        message = focus.get("declineMessage") if isinstance(focus, dict) else ""
        note = DECLINES[section.auto_decline] + (f" with “{message}”" if message else "")
    title = ""
    if on_outlook(config):
        from aligner.surfaces.calendar.outlook_events import TITLE as title
    return AgendaCard(tuple(entry for _, entry in entries), note, title)
