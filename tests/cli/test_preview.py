"""`aligner preview`: the page each audience's view is drawn on, offline and --live."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from aligner.sandbox.server import Sandbox
from tests.conftest import BASE_THEME, Aligner, write_theme

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "example.toml"
DURING = "-2h"  # the example's interview day, 08:00: inside the window, every block started

EVERY_SURFACE = """
[slack]
enabled = true
status_text = "{{ theme.name }}: {{ metrics.latency | change }}"
status_emoji = "{{ theme.emoji }}"

[calendar]
enabled = true

[[calendar.blocks]]
id = "prep"
title = "Secret prep for the loop"
start = "-20h"
duration = "1h"
description = "Numbers: {{ metrics.latency | change }}"

[[calendar.blocks]]
id = "open"
title = "Open office hours"
start = "-18h"
visibility = "public"

[signature]
enabled = true
html = "<b onclick='steal()'>{{ theme.name }}</b><script>alert(1)</script>"

[note]
enabled = true
to = ["Sam Recruiter <sam@example.com>"]
cc = ["hm@example.com"]
subject = "Tomorrow: {{ theme.name }}"
body = "Hi Sam, we cut {{ metrics.latency.label }} {{ metrics.latency | change }}."
send_at = "-16h"
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def page_of(config: Path, *args: str, out: Path) -> str:
    code, output = run("preview", "--config", str(config), "--out", str(out), *args)
    assert code == 0, output
    return out.read_text(encoding="utf-8")


def part(page: str, anchor: str) -> str:
    """One card of the page: from its id to the end of its <article>."""
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</article>", start)]


def visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def test_preview_writes_one_self_contained_page_of_the_example(tmp_path: Path) -> None:
    page = page_of(EXAMPLE, "--at", DURING, out=tmp_path / "p.html")
    text = visible(page)
    assert "Optimizing inference pipelines: p50 latency 28 ms → 19 ms (−32%)" in text
    assert "Tomorrow: Optimizing inference pipelines" in text
    for block in ("Data refresh", "Narrative rehearsal", "Signal polishing", "Mock session"):
        assert block in text
    assert "🚀" in page  # :rocket: drawn as the emoji
    # nothing is loaded from anywhere: no scripts, stylesheets, fonts or images, and a CSP says so
    assert not re.search(r"<script|<link|<img|@import|url\(|https?://", page, re.IGNORECASE)
    assert "default-src 'none'" in html.unescape(page)
    style = page[page.index("<style>") : page.index("</style>")]
    assert "&#34;" not in style and "&gt;" not in style  # CSS is raw text: never HTML-escaped


def test_colleagues_see_private_blocks_as_busy_and_you_see_their_titles(tmp_path: Path) -> None:
    theme = write_theme(tmp_path / "theme.toml", EVERY_SURFACE)
    page = page_of(theme, "--at", "-22h", out=tmp_path / "p.html")
    colleagues = visible(part(page, "calendar-colleagues"))
    assert "Secret prep" not in colleagues and "Busy" in colleagues
    assert "Open office hours" in colleagues  # a public block shows its title
    yours = visible(part(page, "calendar-you"))
    assert "Secret prep for the loop" in yours and "28 ms → 19 ms" in yours


def test_the_signature_is_the_sanitised_html_in_a_sandboxed_frame(tmp_path: Path) -> None:
    theme = write_theme(tmp_path / "theme.toml", EVERY_SURFACE)
    page = page_of(theme, "--at", "-22h", out=tmp_path / "p.html")
    card = part(page, "signature-colleagues")
    frame = re.search(r'<iframe class="mail signature" sandbox="" [^>]*srcdoc="([^"]*)"', card)
    assert frame is not None
    document = html.unescape(frame.group(1))
    assert "<b>Optimizing inference pipelines</b>" in document
    assert "script" not in document and "onclick" not in document


def test_the_recruiter_sees_the_note_as_it_arrives_and_when(tmp_path: Path) -> None:
    theme = write_theme(tmp_path / "theme.toml", EVERY_SURFACE)
    before = visible(
        part(page_of(theme, "--at", "-20h", out=tmp_path / "a.html"), "note-recruiter")
    )
    assert "Sam Recruiter <sam@example.com>" in before and "hm@example.com" in before
    assert "Subject Tomorrow: Optimizing inference pipelines" in " ".join(before.split())
    assert "Stays a draft" in before and "not yet" in before
    after = visible(part(page_of(theme, "--at", "-15h", out=tmp_path / "b.html"), "note-recruiter"))
    assert "delivered by now" in after
    # the signature travels with it, inside the message frame
    assert "Optimizing inference pipelines" in html.unescape(
        part(page_of(theme, "--at", "-15h", out=tmp_path / "c.html"), "note-recruiter")
    )


def test_a_custom_emoji_shows_as_its_code_and_a_standard_one_as_the_emoji(tmp_path: Path) -> None:
    theme = write_theme(
        tmp_path / "theme.toml",
        '[slack]\nenabled = true\nstatus_emoji = ":partyparrot:"\nstatus_text = "Heads down"\n',
    )
    card = visible(part(page_of(theme, out=tmp_path / "p.html"), "slack-colleagues"))
    assert ":partyparrot:" in card and "custom emoji" in card
    theme.write_text(theme.read_text().replace(":partyparrot:", ":house_with_garden:"))
    card = visible(part(page_of(theme, out=tmp_path / "p.html"), "slack-colleagues"))
    assert "🏡" in card and "custom emoji" not in card


def test_a_discretion_finding_is_shown_next_to_its_surface(tmp_path: Path) -> None:
    theme = write_theme(
        tmp_path / "theme.toml",
        '[slack]\nenabled = true\nstatus_text = "Prepping for my Example Corp interview"\n',
    )
    page = page_of(theme, out=tmp_path / "p.html")  # an error in validate; the page shows it
    card = visible(part(page, "slack-colleagues"))
    assert "slack.status_text: mentions “interview” and “Example Corp”" in card


def test_preview_is_offline_and_opens_with_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    # no credentials, no sandbox, no state: the theme file alone
    code, output = run("preview", "--config", str(EXAMPLE), "--open")
    assert code == 0, output
    assert output.startswith("Wrote aligner-preview.html")
    assert opened == [(tmp_path / "aligner-preview.html").resolve().as_uri()]


def test_a_bad_time_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, output = run("preview", "--config", str(EXAMPLE), "--at", "soon")
    assert code == 2 and output.startswith("--at: ") and len(output.splitlines()) == 1


def test_live_reads_every_surface_writes_nothing_and_shows_before_after(
    env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    aligner = Aligner(env, EXAMPLE, sandbox)
    sandbox.clear_log()
    out = tmp_path / "live.html"
    result = aligner("preview", "--live", "--out", str(out), now="2026-12-02T11:00:00-08:00")
    assert result.exit_code == 0, result.output
    assert sandbox.requests() and not sandbox.requests(writes=True)
    page = out.read_text(encoding="utf-8")
    text = " ".join(visible(part(page, "slack-colleagues")).split())
    assert "Before → after" in text and "Working from home" in text
    assert "read from your accounts just now" in visible(page)


def test_the_page_has_no_surface_card_for_a_disabled_surface(tmp_path: Path) -> None:
    theme = tmp_path / "theme.toml"
    theme.write_text(BASE_THEME + "[slack]\nenabled = false\n", encoding="utf-8")
    page = page_of(theme, out=tmp_path / "p.html")
    assert "Nothing your colleagues see is themed" in visible(page)
    assert "No note to the recruiter" in visible(page)
