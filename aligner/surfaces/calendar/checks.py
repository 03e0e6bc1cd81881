"""What `validate` checks in `[calendar]`: times, texts, unique block ids, and discretion.

Discretion: colleagues who can see your calendar see a block's title and description unless the
block is private, and everyone whose invitation focus time declines gets the decline message.
"""

from __future__ import annotations

from aligner.errors import ConfigError
from aligner.surfaces.calendar.events import FOCUS, PRIVATE, block_field, calendar_section
from aligner.surfaces.calendar.section import CalendarBlock
from aligner.theme.discretion import discretion_findings
from aligner.theme.findings import Finding
from aligner.theme.schema import ThemeConfig
from aligner.theme.templates import render
from aligner.theme.timespec import TimeSpecError, duration_length

_SEEN_BY_COLLEAGUES = (
    "colleagues who can see your calendar see it unless the block is private "
    '(visibility = "private")'
)
_SENT_WITH_DECLINES = "focus time sends it to everyone whose invitation it declines"


def calendar_findings(config: ThemeConfig) -> list[Finding]:
    section = calendar_section(config)
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for index, block in enumerate(section.blocks):
        field = block_field(index)
        if block.key in seen:
            findings.append(
                Finding(
                    f"{field}.id",
                    f"“{block.key}” is also the id of calendar.blocks[{seen[block.key]}]; "
                    "give each block its own id",
                )
            )
        seen.setdefault(block.key, index)
        findings += _block_findings(config, index, block)
    if section.provider == "microsoft":
        return findings + _outlook_findings(config)
    if section.event_type == FOCUS and section.auto_decline != "declineNone":
        findings += _decline_findings(config)
    if section.event_type == FOCUS and section.calendar_id != "primary":
        findings.append(
            Finding(
                "calendar.calendar_id",
                f"focus time exists only on your primary calendar; if “{section.calendar_id}” is "
                "not it, Google refuses focus time and aligner uses plain busy events",
                "warning",
            )
        )
    return findings


GOOGLE_ONLY = ("event_type", "auto_decline", "decline_message", "chat_status")


def _outlook_findings(config: ThemeConfig) -> list[Finding]:
    """Outlook has no focus time: blocks are busy events. Said only where the theme asks for
    something Google's focus time would do (a key it set), not for the defaults."""
    section = calendar_section(config)
    findings = []
    asked = [k for k in GOOGLE_ONLY if k in section.model_fields_set]
    if asked and not (asked == ["event_type"] and section.event_type != FOCUS):
        findings.append(
            Finding(
                f"calendar.{asked[0]}",
                'Outlook has no focus time: with provider = "microsoft" every block is a busy '
                f"event (show as busy, private when the block is); {', '.join(asked)} "
                f"{'does' if len(asked) == 1 else 'do'} nothing there and no invitation is "
                "declined",
                "warning",
            )
        )
    if section.calendar_id != "primary":
        findings.append(
            Finding(
                "calendar.calendar_id",
                'is Google\'s: with provider = "microsoft" the blocks go on your default '
                "Outlook calendar",
                "warning",
            )
        )
    return findings


def _block_findings(config: ThemeConfig, index: int, block: CalendarBlock) -> list[Finding]:
    field = block_field(index)
    findings = []
    try:
        config.instant(block.start, f"{field}.start")
    except ConfigError as exc:
        findings += [Finding.from_problem(p) for p in exc.problems]
    try:
        duration_length(block.duration)
    except TimeSpecError as exc:
        findings.append(Finding(f"{field}.duration", str(exc)))
    texts = {}
    for name in ("title", "description"):
        try:
            texts[name] = render(config, f"{field}.{name}", getattr(block, name)).strip()
        except ConfigError as exc:
            findings += [Finding.from_problem(p) for p in exc.problems]
    if texts.get("title") == "":
        findings.append(Finding(f"{field}.title", "is empty; a block needs a title"))
    if (block.visibility or calendar_section(config).visibility) in PRIVATE:
        return findings
    for name, text in texts.items():
        findings += discretion_findings(config, f"{field}.{name}", text, _SEEN_BY_COLLEAGUES)
    return findings


def _decline_findings(config: ThemeConfig) -> list[Finding]:
    try:
        message = render(
            config, "calendar.decline_message", calendar_section(config).decline_message
        )
    except ConfigError as exc:
        return [Finding.from_problem(p) for p in exc.problems]
    return discretion_findings(config, "calendar.decline_message", message, _SENT_WITH_DECLINES)
