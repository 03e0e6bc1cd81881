"""The pure signature helpers: render, sanitise, compose, find the block again, show as text."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.errors import ConfigError
from aligner.sandbox.google.gmail.settings import SEEDED_SIGNATURE, gmail_rewrite
from aligner.surfaces.signature.html import (
    find_theme_block,
    html_to_text,
    marker_class,
    preview_lines,
    sanitize,
    strip_controls,
    themed_block,
    themed_signature,
    without_theme_blocks,
)
from aligner.theme.schema import ThemeConfig, parse_config
from tests.conftest import BASE_THEME

HTML = "<div>{{ theme.name }} · {{ metrics.latency.label }} {{ metrics.latency | change }}</div>"
LINE = "Optimizing inference pipelines · p50 latency 28 ms → 19 ms (−32%)"


def config(html: str = "", **signature: Any) -> ThemeConfig:
    data = tomllib.loads(BASE_THEME)
    data["signature"] = {
        "enabled": True,
        "html": html or HTML,
        **signature,
    }
    return parse_config(data)


def test_themed_block_is_the_marked_theme_part_alone() -> None:
    block = themed_block(config())
    assert block == f'<div class="{marker_class("inference")}"><div>{LINE}</div></div>'
    assert "inference" not in block.replace(LINE, "")
    assert "aligner" not in block


def test_themed_block_in_replace_mode_renders_with_an_empty_original() -> None:
    block = themed_block(config("<p>{{ theme.name }}</p>[{{ original }}]", mode="replace"))
    assert block == "<p>Optimizing inference pipelines</p>[]"


def test_a_template_error_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        themed_block(config("{{ nope }}"))
    assert caught.value.problems[0].startswith("signature.html:")


def test_append_keeps_the_original_bytes_and_adds_the_block() -> None:
    signature = themed_signature(config(), SEEDED_SIGNATURE)
    assert signature.startswith(SEEDED_SIGNATURE)
    assert html_to_text(signature).splitlines()[-1] == LINE


def test_appending_again_never_stacks_blocks() -> None:
    once = themed_signature(config(), SEEDED_SIGNATURE)
    assert themed_signature(config(), once) == once
    assert themed_signature(config(), gmail_rewrite(once)).count(marker_class("inference")) == 1


def test_replace_mode_may_embed_the_original() -> None:
    signature = themed_signature(
        config("<div>{{ theme.name }}</div>{{ original }}", mode="replace"), SEEDED_SIGNATURE
    )
    assert html_to_text(signature).splitlines()[0] == "Optimizing inference pipelines"
    assert "Alex Doe" in html_to_text(signature)


def test_the_block_is_found_again_after_gmail_rewrites_it() -> None:
    stored = gmail_rewrite(themed_signature(config(), SEEDED_SIGNATURE))
    span = find_theme_block(stored)
    assert span is not None
    assert html_to_text(stored[span[0] : span[1]]) == LINE
    assert LINE not in html_to_text(without_theme_blocks(stored))
    assert "Alex Doe" in html_to_text(without_theme_blocks(stored))


def test_without_blocks_leaves_a_signature_without_one_untouched() -> None:
    assert without_theme_blocks(SEEDED_SIGNATURE) == SEEDED_SIGNATURE
    assert find_theme_block("<div>plain</div>") is None


def test_nested_markup_inside_the_block_is_removed_with_it() -> None:
    text = 'a\n<div class="aligner-theme"><div><div>x</div></div>\n</div><div>b</div>'
    assert without_theme_blocks(text) == "a\n<div>b</div>"


def test_sanitising_keeps_formatting_and_links_and_drops_the_rest() -> None:
    dirty = (
        '<div style="color: red; position: fixed" onclick="x()"><b>bold</b> '
        '<a href="javascript:alert(1)">bad</a> <a href="https://ok.example/">ok</a>'
        '<script>alert(1)</script><!-- note --><img src="https://img.example/a.png" alt="a">'
        '<iframe src="https://x"></iframe></div>'
    )
    clean = sanitize(dirty)
    assert clean == (
        '<div style="color:red"><b>bold</b> <a>bad</a> <a href="https://ok.example/">ok</a>'
        '<img src="https://img.example/a.png" alt="a"></div>'
    )


def test_byte_order_marks_and_control_characters_are_removed() -> None:
    assert strip_controls("\ufeffa\x00b\x07c\td\r\ne\u200bf") == "abc\td\ne\u200bf"
    assert "\ufeff" not in themed_block(config("<div>\ufeff{{ theme.name }}\x1b</div>"))


def test_text_rendering_reads_like_the_signature() -> None:
    text = html_to_text(
        "<div>Alex&nbsp;Doe<br>Engineer</div><table><tr><td>a</td><td>b</td></tr></table>"
        '<img src="x" alt="logo"><style>p{}</style>'
    )
    assert text.splitlines() == ["Alex Doe", "Engineer", "a b", "[logo]"]


def test_preview_shows_added_and_removed_lines_then_the_html() -> None:
    after = themed_signature(config(), SEEDED_SIGNATURE)
    lines = preview_lines(SEEDED_SIGNATURE, after)
    assert lines[0] == "text:"
    assert "    Alex Doe" in lines
    assert f"  + {LINE}" in lines
    assert lines[-1] == f"html: {after}"
    back = preview_lines(after, SEEDED_SIGNATURE)
    assert f"  - {LINE}" in back


_fragments = st.lists(
    st.sampled_from(
        [
            "<div>",
            "</div>",
            "<b>",
            "</b>",
            "<br/>",
            "<BR>",
            "text",
            " & ",
            "&amp;",
            "<p>",
            "</p>",
            "<a href='x'>",
            "</a>",
            "<!-- c -->",
            "<script>s</script>",
            '<div dir="ltr">',
            "é→",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(_fragments)
def test_the_sandbox_rewrite_is_idempotent(signature: str) -> None:
    once = gmail_rewrite(signature)
    assert gmail_rewrite(once) == once


@settings(max_examples=150, deadline=None)
@given(_fragments)
def test_the_block_comes_off_any_original_it_was_appended_to(original: str) -> None:
    stored = gmail_rewrite(original)
    themed = themed_signature(config(), stored)
    assert without_theme_blocks(themed) == without_theme_blocks(stored)
