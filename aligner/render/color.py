"""Colour for terminal text: the marks of plan, apply, revert, status and doctor lines, painted.

The text renderers return plain strings; `paint` adds ANSI colour to the lines whose mark it
knows (green + for what is added, yellow ~ for what changes, red - for what is taken away or
given back, and conflicts and failures in bold red), and makes surface headings bold. Whether
colour is wanted at all is the CLI's decision (`--color`, NO_COLOR, a terminal or not).
"""

from __future__ import annotations

import re

import click

_MARKED = re.compile(r"^(\s*)([+~\-!✗✓·])(\s)")
# mark -> (colour, bold, dim)
STYLES: dict[str, tuple[str | None, bool, bool]] = {
    "+": ("green", False, False),
    "✓": ("green", False, False),
    "~": ("yellow", False, False),
    "-": ("red", False, False),
    "!": ("red", True, False),
    "✗": ("red", True, False),
    "·": (None, False, True),
}
LOUD = "!✗"  # conflicts and failures: the whole line stands out


def _style(text: str, mark: str) -> str:
    colour, bold, dim = STYLES[mark]
    return click.style(text, fg=colour, bold=bold or None, dim=dim or None)


def paint_line(line: str) -> str:
    found = _MARKED.match(line)
    if found:
        indent, mark, space = found.groups()
        if mark in LOUD:
            return indent + _style(line[len(indent) :], mark)
        return f"{indent}{_style(mark, mark)}{space}{line[found.end() :]}"
    if line and not line[0].isspace() and not line.endswith("."):
        return click.style(line, bold=True)  # a heading: the plan line or a surface's title
    return line


def paint(text: str) -> str:
    return "\n".join(paint_line(line) for line in text.splitlines())
