"""Issue 11, item 8: each input that used to crash is now `field: problem` with exit 2.

Every case runs `validate` and `plan` against the sandbox: neither may say "internal error".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BASE_THEME, DURING, Aligner

SLACK = '\n[slack]\nenabled = true\nstatus_emoji = ":rocket:"\nstatus_text = "{text}"\n'
BLOCK = '\n[calendar]\nenabled = true\n[[calendar.blocks]]\ntitle = "Focus"\nstart = "{start}"\n'


def replaced(old: str, new: str) -> str:
    assert old in BASE_THEME
    return BASE_THEME.replace(old, new, 1)


CRASHERS = {
    "nan": (replaced("before = 28", "before = nan"), "metrics[0].before: "),
    "inf": (replaced("before = 28", "before = inf"), "metrics[0].before: "),
    "year 9999": (
        replaced('starts_at = "2026-12-03T10:00"', 'starts_at = "9999-12-31T23:30"'),
        "interview.starts_at: '9999-12-31T23:30' is out of range",
    ),
    "huge offset": (
        replaced('start = "-24h"', 'start = "-99999999999d"'),
        "window.start: '-99999999999d' is too long",
    ),
    "zone folder": (
        replaced('"America/Los_Angeles"', '"America"'),
        "theme.timezone: unknown timezone 'America'",
    ),
    "zone too long": (
        replaced('"America/Los_Angeles"', '"' + "A" * 5000 + '"'),
        "theme.timezone: unknown timezone",
    ),
    "division by zero": (
        BASE_THEME + SLACK.format(text="{{ 1/0 }}"),
        "slack.status_text: template error: ZeroDivisionError",
    ),
    "include": (
        BASE_THEME + SLACK.format(text="{% include 'x' %}"),
        "slack.status_text: template error: a text cannot include or import other templates",
    ),
    "negative truncate": (
        BASE_THEME + SLACK.format(text="{{ theme.name|truncate(-5) }}"),
        "slack.status_text: template error",
    ),
    "recursive macro": (
        BASE_THEME + SLACK.format(text="{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"),
        "slack.status_text: template error: it calls itself too deeply",
    ),
    "block in year 1": (
        BASE_THEME + BLOCK.format(start="0001-01-01T00:00:00"),
        "calendar.blocks[0].start: '0001-01-01T00:00:00' is out of range",
    ),
    "huge duration": (
        BASE_THEME + BLOCK.format(start="-2h") + 'duration = "99999999999d"\n',
        "calendar.blocks[0].duration: '99999999999d' is too long (at most 366 days)",
    ),
}


@pytest.mark.parametrize("case", list(CRASHERS))
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_former_crasher_is_a_config_error_naming_the_field(
    env: dict[str, str], tmp_path: Path, case: str, command: str
) -> None:
    text, expected = CRASHERS[case]
    path = tmp_path / "theme.toml"
    path.write_text(text, encoding="utf-8")
    result = Aligner(env, path)(command, now=DURING)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
