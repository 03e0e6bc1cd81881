"""`validate` on [calendar]: discretion, times, texts and block ids (exit 2, one line each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Aligner, write_theme

CALENDAR = """
[slack]
enabled = false

[calendar]
enabled = true
"""


def block(title: str, *, visibility: str | None = None, **fields: str) -> str:
    lines = ["[[calendar.blocks]]", f'title = "{title}"', 'start = "-3h"']
    if visibility:
        lines.append(f'visibility = "{visibility}"')
    lines += [f'{key} = "{value}"' for key, value in fields.items()]
    return "\n" + "\n".join(lines) + "\n"


def validate(tmp_path: Path, *sections: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    path = write_theme(tmp_path / "theme.toml", CALENDAR, *sections)
    result = Aligner(env or {}, path)("validate")
    return result.exit_code, result.output


@pytest.mark.parametrize("title", ["Interview prep", "Example Corp deep-dive"])
def test_a_visible_block_that_gives_the_interview_away_fails_validate(
    tmp_path: Path, title: str
) -> None:
    code, output = validate(tmp_path, block(title, visibility="default"))
    assert code == 2
    assert "calendar.blocks[0].title: mentions" in output
    assert "Traceback" not in output


def test_private_blocks_may_say_what_they_are(tmp_path: Path) -> None:
    code, output = validate(tmp_path, block("Interview prep"))  # private is the default
    assert code == 0, output
    code, output = validate(tmp_path, block("Interview prep", visibility="confidential"))
    assert code == 0, output


def test_relaxed_discretion_allows_it(tmp_path: Path) -> None:
    path = write_theme(
        tmp_path / "theme.toml", CALENDAR, block("Interview prep", visibility="public")
    )
    path.write_text(
        path.read_text().replace('id = "inference"', 'id = "inference"\ndiscretion = "warn"')
    )
    result = Aligner({}, path)("validate")
    assert result.exit_code == 0, result.output
    assert "warning: calendar.blocks[0].title" in result.output


def test_a_visible_description_is_checked_too(tmp_path: Path) -> None:
    section = block("Prep", visibility="public", description="For {{ interview.company }}")
    code, output = validate(tmp_path, section)
    assert code == 2
    assert "calendar.blocks[0].description: mentions “Example Corp”" in output


def test_the_decline_message_is_checked_whatever_the_visibility(tmp_path: Path) -> None:
    section = CALENDAR.replace(
        "enabled = true", 'enabled = true\ndecline_message = "At my interview"'
    )
    path = write_theme(tmp_path / "theme.toml", section, block("Prep"))
    result = Aligner({}, path)("validate")
    assert result.exit_code == 2
    assert "calendar.decline_message: mentions “interview”" in result.output


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"duration": "soon"}, "calendar.blocks[0].duration"),
        ({"start": "tomorrow"}, "calendar.blocks[0].start"),
        ({"description": "{{ nope }}"}, "calendar.blocks[0].description"),
    ],
)
def test_bad_block_fields_are_one_line_each(
    tmp_path: Path, fields: dict[str, str], expected: str
) -> None:
    text = block("Prep", **{k: v for k, v in fields.items() if k != "start"})
    if "start" in fields:
        text = text.replace('start = "-3h"', f'start = "{fields["start"]}"')
    code, output = validate(tmp_path, text)
    assert code == 2
    assert output.strip().startswith(expected), output


def test_two_blocks_with_one_id_fail(tmp_path: Path) -> None:
    code, output = validate(tmp_path, block("Prep", id="prep"), block("Other", id="prep"))
    assert code == 2
    assert "calendar.blocks[1].id: “prep” is also the id of calendar.blocks[0]" in output


def test_a_disabled_calendar_is_not_checked(tmp_path: Path) -> None:
    section = CALENDAR.replace("enabled = true", "enabled = false")
    path = write_theme(tmp_path / "theme.toml", section, block("Interview", visibility="public"))
    assert Aligner({}, path)("validate").exit_code == 0
