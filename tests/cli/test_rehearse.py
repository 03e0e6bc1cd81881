"""`rehearse` reads as a story: what changed at each step, each long text once, a closing table."""

from __future__ import annotations

import functools
from pathlib import Path

from click.testing import CliRunner

from aligner.cli import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.toml"


def rehearse() -> list[str]:
    """The lines of `aligner rehearse` on the example theme (a fresh list each call)."""
    return list(_rehearsal())


@functools.cache
def _rehearsal() -> tuple[str, ...]:
    """One run serves every test here: the rehearsal of a fixed file is the same every time, and
    each run costs most of a second of CPU. Called from inside a test, so the first caller's
    isolated environment (tests/conftest.py) is the one it sees."""
    result = CliRunner().invoke(cli, ["rehearse", "--config", str(EXAMPLE)], env={})
    assert result.exit_code == 0, result.output
    return tuple(result.stdout.splitlines())


def step_of(lines: list[str], text: str) -> str:
    """The heading of the step under which `text` first appears."""
    at = next(i for i, line in enumerate(lines) if text in line)
    return next(lines[i] for i in range(at, -1, -1) if lines[i][:4] in {"Wed ", "Thu "})


def test_the_example_rehearsal_fits_one_screen_and_100_columns() -> None:
    lines = rehearse()
    assert len(lines) <= 60, "\n".join(lines)
    too_wide = [line for line in lines if len(line) > 100]
    assert not too_wide


def test_each_step_says_only_what_changed() -> None:
    text = "\n".join(rehearse())
    # the calendar's blocks are listed once, when they are created, not again at every step
    assert text.count("Narrative rehearsal") == 2  # its creation, and the step it starts
    assert (
        "Wed 02 Dec 13:00 PST [during] calendar block “Narrative rehearsal” starts — nothing"
        in (text)
    )
    assert "Before aligner runs" not in text  # the table's first column says it


def test_the_note_body_and_the_signature_appear_once_where_they_first_appear() -> None:
    lines = rehearse()
    text = "\n".join(lines)
    assert text.count("Looking forward to tomorrow") == 1
    assert step_of(lines, "Looking forward to tomorrow").startswith("Wed 02 Dec 09:00 PST [before]")
    assert text.count("linkedin.com/in/alexdoe-example") == 1
    assert "<div" not in text  # the signature as it reads, not its markup
    assert step_of(lines, "linkedin.com/in/alexdoe").startswith("Wed 02 Dec 10:00 PST [during]")


def test_it_ends_with_a_table_of_surfaces_before_during_and_after() -> None:
    lines = rehearse()
    header = next(
        i for i, line in enumerate(lines) if line.split() == ["before", "during", "after"]
    )
    rows = {line.split("  ")[0]: line for line in lines[header + 1 :]}
    assert set(rows) == {
        "Slack status",
        "Google Calendar blocks",
        "Gmail signature",
        "Pre-interview note",
    }
    assert ":rocket:" in rows["Slack status"] and rows["Slack status"].endswith("✓ as before")
    assert rows["Gmail signature"].endswith("✓ as before")
    assert "(no blocks)" in rows["Google Calendar blocks"]
    assert lines[header + 1 :] == lines[-4:]


def test_on_a_wide_terminal_the_rehearsal_uses_the_room() -> None:
    """The CLI passes the terminal's width (100 when piped); headings and table follow it."""
    from aligner.core.rehearsal import rehearse as run
    from aligner.theme.validation import load_theme

    lines = list(run(load_theme(EXAMPLE).config, width=160))
    headings = [line for line in lines if line[:4] in {"Wed ", "Thu "}]
    assert all(len(line) <= 160 and not line.endswith("…") for line in headings)
    assert max(len(line) for line in headings) > 100  # the one cut at 100 columns is whole
    table = lines[len(lines) - lines[::-1].index("") :]  # the closing table, after a blank
    assert all(len(line) <= 160 for line in table)
    assert len(table[0]) > 100  # its columns widen with the room
