"""The note as the recruiter reads it, for `aligner preview`: headers, body, signature, timing."""

from __future__ import annotations

from datetime import datetime

from aligner.render.text import local
from aligner.surfaces.preview_model import EmailCard
from aligner.theme.schema import ThemeConfig

SENDER = "you (the address of your {vendor} account)"


def preview(config: ThemeConfig, now: datetime) -> EmailCard | None:
    from aligner.surfaces.note.surface import note_section, rendered_note, vendor

    section = note_section(config)
    if not section.enabled:
        return None
    note = rendered_note(config)
    zone = config.zone
    send_at = config.instant(section.send_at, "note.send_at")
    when, start = local(send_at, zone), local(config.schedule.interview_start, zone)
    if section.delivery == "draft":
        delivery = (
            f"Stays a draft: it appears in your {vendor(config)} Drafts at {when} (or the first "
            "run after) and goes out only when you send it yourself."
        )
    else:
        delivery = (
            f"Sent at {when} (or the first run after), exactly once; "
            f"never sent once the interview has started ({start})."
        )
    html = note.get("html")
    return EmailCard(
        sender=SENDER.format(vendor=vendor(config)),
        to=tuple(str(a) for a in note["to"]),
        cc=tuple(str(a) for a in note["cc"]),
        subject=str(note["subject"]),
        text=str(note["text"]),
        html=str(html) if html else None,
        delivery=delivery,
        delivered=send_at <= now,
    )
