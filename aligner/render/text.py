"""Human-readable text for plans, apply results, status and timelines (returns strings only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aligner.core.model import ApplyResult, Change, Plan
from aligner.theme.schema import ThemeConfig

MARKS = {
    "set": "+",
    "create": "+",
    "draft": "+",
    "send": "+",
    "update": "~",
    "restore": "-",
    "delete": "-",
    "conflict": "!",
    "release": "·",
    "notice": "·",
}


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %Y %H:%M %Z")


def window_line(config: ThemeConfig) -> str:
    s = config.schedule
    return f"window {local(s.window_start, s.zone)} → {local(s.window_end, s.zone)}"


def value_diff(before: Any, after: Any, zone: ZoneInfo, indent: str = "      ") -> list[str]:
    """Field-by-field before/after for dict values; a plain pair otherwise."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if old != new:
                shown = f"{_short(key, old, zone)} → {_short(key, new, zone)}"
                lines.append(f"{indent}{key}: {shown}")
        return lines
    if before is None or after is None or isinstance(before, dict) or isinstance(after, dict):
        return []
    return [f"{indent}{_short('', before, zone)} → {_short('', after, zone)}"]


def _short(key: str, value: Any, zone: ZoneInfo, limit: int = 160) -> str:
    if key.endswith("expiration") and isinstance(value, int):  # Unix seconds
        return local(datetime.fromtimestamp(value, zone), zone) if value else "never"
    if key.endswith(("expires_at", "expiration")) and (value is None or isinstance(value, str)):
        return _instant(value, zone)  # ISO 8601, or None: it does not expire
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _instant(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "never"
    try:
        return local(datetime.fromisoformat(value).astimezone(zone), zone)
    except ValueError:
        return f"“{value}”"


def explains(change: Change) -> bool:
    """A notice without a key: a surface's explanation of why it has nothing to change."""
    return not change.writes and not change.key


def change_lines(change: Change, zone: ZoneInfo) -> list[str]:
    mark = MARKS.get(change.action, "~")
    lines = [f"  {mark} {change.action} {change.key}: {change.summary}"]
    preview = change.preview
    if change.writes and not preview:
        lines += value_diff(change.before, change.after, zone)
    lines += [f"      {line}" for line in preview or []]
    return lines


def closing_line(plan: Plan) -> str:
    count = len(plan.changes)
    conflicts = sum(1 for c in plan.notices if c.is_conflict)
    needs_you = f"; {conflicts} conflict{'s' if conflicts != 1 else ''} left for you (see above)"
    failed = len(plan.errors)
    broke = f"{failed} surface{'s' if failed != 1 else ''} failed (see above)"
    if count:
        return (
            f"{count} change{'s' if count != 1 else ''} pending"
            + (needs_you if conflicts else "")
            + (f"; {broke}" if failed else "")
            + "."
        )
    if conflicts:
        return "No changes to make" + needs_you + "."
    if failed:
        return f"No changes planned; {broke}."
    return "No changes: every surface already shows what it should."


def reverted_line(when: str, zone: ZoneInfo) -> str:
    return (
        f"Reverted at {local(datetime.fromisoformat(when), zone)}: aligner gives back and "
        "sets nothing until `aligner resume` (or a change to the theme file)."
    )


def plan_text(plan: Plan, config: ThemeConfig) -> str:
    zone = config.zone
    lines = [f"Plan for {local(plan.at, zone)} — phase: {plan.phase} ({window_line(config)})"]
    lines += [reverted_line(plan.reverted_at, zone)] if plan.reverted_at else []
    lines.append("")
    for surface in plan.surfaces:
        lines.append(surface.title)
        if surface.error:
            lines.append(f"  ✗ {surface.error}")
        elif not surface.changes:
            lines.append("  no changes")
        explained = [c for c in surface.changes if explains(c)]
        if explained and len(explained) == len(surface.changes):  # only why there is nothing
            lines += [f"  no changes: {change.summary}" for change in explained]
            continue
        for change in surface.changes:
            lines += change_lines(change, zone)
    lines += ["", closing_line(plan)]
    return "\n".join(lines)


def apply_text(result: ApplyResult, config: ThemeConfig, verb: str = "Apply") -> str:
    lines = [f"{verb} at {local(result.plan.at, config.zone)} — phase: {result.plan.phase}"]
    if result.plan.reverted_at and verb == "Apply":
        lines.append(reverted_line(result.plan.reverted_at, config.zone))
    for name, error in result.plan.errors.items():
        lines.append(f"  ✗ {name}: {error}")
    for outcome in result.outcomes:
        change = outcome.change
        if not outcome.ok:
            lines.append(f"  ✗ {change.surface} {change.action} {change.key}: {outcome.detail}")
        elif change.writes:
            lines.append(f"  ✓ {change.surface} {change.action} {change.key}: {change.summary}")
            lines += [f"      note: {note}" for note in outcome.notes]
        elif explains(change):
            lines.append(f"  · {change.surface}: {change.summary}")
        else:
            lines.append(
                f"  {MARKS.get(change.action, '·')} {change.surface} {change.action} "
                f"{change.key}: {change.summary}"
            )
    written = len(result.written)
    if not result.outcomes and not result.plan.errors:
        lines.append("  nothing to do: every surface already shows what it should")
    lines.append(
        f"{written} change{'s' if written != 1 else ''} applied"
        + (f", {len(result.failed)} surface(s) failed." if result.failed else ".")
    )
    return "\n".join(lines)


PIPE_WIDTH = 100  # the widest a line gets when output goes to a pipe or a file


def wrap(text: str, width: int = PIPE_WIDTH) -> str:
    """Each line folded to `width` columns; a continuation is indented past the line's mark.
    A word longer than the width (a path, a URL) is never cut: it must stay copyable."""
    import textwrap

    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        indent = " " * (len(line) - len(stripped))
        marked = len(stripped) > 1 and stripped[1] == " " and not stripped[0].isalnum()
        hang = indent + ("  " if marked else "") + "  "
        out += textwrap.wrap(
            stripped,
            width=width,
            initial_indent=indent,
            subsequent_indent=hang,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [line[:width]]
    return "\n".join(out)
