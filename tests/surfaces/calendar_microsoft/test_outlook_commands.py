"""Outlook blocks through the other commands: doctor, validate, timeline, preview, rehearse, and
many blocks (a bounded pool of writes, a paged read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.sandbox.server import Sandbox
from aligner.surfaces import by_name
from aligner.theme.validation import load_theme
from tests.conftest import BEFORE, SLACK_SECTION, Aligner, flat, write_theme
from tests.surfaces.calendar.test_calendar_parallel import MANY, POOL, SLOW, most_at_once
from tests.surfaces.calendar.test_calendar_surface import BLOCKS, calendar_theme
from tests.surfaces.calendar_microsoft.conftest import OUTLOOK, blocks, calls, outlook_theme, sent


def test_account_and_scopes_follow_the_provider(theme: Path, tmp_path: Path) -> None:
    surface = by_name("calendar")
    outlook = load_theme(theme).config
    google = load_theme(calendar_theme(tmp_path / "google.toml")).config
    assert surface.account(outlook).name == "microsoft"
    assert surface.needed_scopes(outlook) == ("Calendars.ReadWrite",)
    assert surface.account(google).name == "google"
    assert surface.needed_scopes(google) == ("https://www.googleapis.com/auth/calendar.events",)


def test_doctor_reads_the_outlook_calendar_once(aligner: Aligner, sandbox: Sandbox) -> None:
    result = aligner("doctor", now=BEFORE)
    text = flat(result.output)
    assert "✓ calendar.works: Outlook calendar “Calendar” of alex@example.com is readable" in text
    assert "✓ calendar.focus_time: not on Outlook: blocks are busy events" in text
    assert [r.operation for r in calls(sandbox)] == ["calendars.get"]
    assert "google" not in text.lower()


def test_doctor_says_when_the_token_is_refused(aligner: Aligner) -> None:
    result = aligner("doctor", now=BEFORE, ALIGNER_MICROSOFT_ACCESS_TOKEN="eyJ.revoked")
    lines = [x for x in result.output.splitlines() if x.startswith("✗ calendar.works")]
    assert len(lines) == 1, result.output
    assert "InvalidAuthenticationToken" in lines[0] and "eyJ.revoked" not in result.output
    assert result.exit_code == 1


def test_validate_says_outlook_has_no_focus_time_only_when_the_theme_asks_for_it(
    aligner: Aligner, theme: Path
) -> None:
    quiet = aligner("validate")
    assert quiet.exit_code == 0, quiet.output
    assert "focus time" not in quiet.output
    theme.write_text(
        theme.read_text().replace(
            'provider = "microsoft"', 'provider = "microsoft"\nauto_decline = "declineNone"'
        )
    )
    said = aligner("validate")
    assert said.exit_code == 0, said.output  # a warning: the blocks still work, as busy events
    assert "warning: calendar.auto_decline: Outlook has no focus time" in flat(said.output)


def test_timeline_lists_block_starts(aligner: Aligner) -> None:
    result = aligner("timeline")
    assert result.exit_code == 0, result.output
    assert "Wed 02 Dec 2026 13:00 PST  calendar block “Narrative rehearsal” starts" in result.stdout


def test_preview_shows_outlook_busy_blocks_without_google_words(
    aligner: Aligner, tmp_path: Path
) -> None:
    page = tmp_path / "preview.html"
    result = aligner("preview", "--at", BEFORE, "--out", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "Outlook calendar blocks" in html
    assert "Google Calendar" not in html and "Focus time" not in html
    assert "Narrative rehearsal" in html


def test_rehearse_shows_the_outlook_blocks(aligner: Aligner) -> None:
    result = aligner("rehearse")
    assert result.exit_code == 0, result.output
    assert "Outlook calendar blocks" in result.stdout
    assert "busy block “Data refresh”" in result.stdout


def test_a_hundred_blocks_go_out_from_a_bounded_pool_once_each(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    aligner = Aligner(env, outlook_theme(tmp_path / "theme.toml", blocks=MANY), sandbox)
    sandbox.inject("events.create", "latency", seconds=SLOW, times=len(MANY))
    result = aligner("apply", now=BEFORE)
    assert result.exit_code == 0, result.output
    posts = [r for r in calls(sandbox, writes=True) if r.operation == "events.create"]
    assert len(posts) == len(MANY)
    assert len({sent(r)["transactionId"] for r in posts}) == len(MANY)
    assert set(blocks(sandbox)) == set(MANY)
    assert 2 <= most_at_once(posts, SLOW) <= POOL
    sandbox.clear_log()
    assert aligner("apply", now=BEFORE).exit_code == 0
    assert calls(sandbox, writes=True) == []
    assert [r.operation for r in calls(sandbox)] == ["events.list"]  # 100 blocks: one page


def test_the_read_follows_next_links(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("aligner.surfaces.calendar.outlook_api.PAGE_SIZE", 10)
    some = dict(list(MANY.items())[:25])
    aligner = Aligner(env, outlook_theme(tmp_path / "theme.toml", blocks=some), sandbox)
    assert aligner("apply", now=BEFORE).exit_code == 0
    sandbox.clear_log()
    result = aligner("plan", "--json", now=BEFORE)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"] == []  # all 25 found across the pages
    listed = [r for r in calls(sandbox) if r.operation == "events.list"]
    assert len(listed) == 3


def test_a_mixed_theme_puts_slack_and_outlook_side_by_side(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    theme = write_theme(tmp_path / "mixed.toml", SLACK_SECTION, OUTLOOK, *BLOCKS.values())
    aligner = Aligner(env, theme, sandbox)
    result = aligner("apply", now="2026-12-02T19:00:00Z")
    assert result.exit_code == 0, result.output
    assert set(blocks(sandbox)) == {"rehearsal", "mock"}
    assert sandbox.requests("slack", writes=True)
    assert sandbox.requests("calendar") == []  # the Google calendar is not touched
