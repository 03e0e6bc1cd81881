"""The preview page in a real browser: headless Chromium (Debian's `chromium` package).

Chromium is driven over the DevTools protocol on a pipe (tests/cli/browser.py), so the test sees
every request the page makes and every console message or error Chromium logs for it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligner.cli import cli
from aligner.theme.validation import load_theme
from tests.cli.browser import CHROMIUM, Browser, PageVisit

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "example.toml"
ALLOWED_SCHEMES = ("file:", "data:", "about:")  # about:srcdoc is the signature's own frame

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs headless Chromium at /usr/bin/chromium "
        "(apt-get install -y chromium fonts-noto-color-emoji)",
    ),
    pytest.mark.heavy(3),  # the module's tests share one browser: they stay together
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = Browser()
    try:
        yield chromium
    finally:
        chromium.close()


def example_page(tmp_path: Path) -> Path:
    out = tmp_path / "aligner-preview.html"
    result = CliRunner().invoke(
        cli, ["preview", "--config", str(EXAMPLE), "--at", "-2h", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


def assert_not_blank(png: bytes) -> None:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width >= 300 and image.height >= 600
    colours = image.resize((64, 256)).getcolors(maxcolors=64 * 256)
    assert colours is not None and len(colours) > 20  # text, cards and the header, not one fill


def assert_clean(visit: PageVisit) -> None:
    assert visit.errors == []
    assert [u for u in visit.requests if not u.startswith(ALLOWED_SCHEMES)] == []


@pytest.mark.parametrize("width", [1280, 390], ids=["laptop", "phone"])
def test_the_example_page_in_chromium(browser: Browser, tmp_path: Path, width: int) -> None:
    visit = browser.visit(example_page(tmp_path).as_uri(), width=width)
    (tmp_path / f"screenshot-{width}.png").write_bytes(visit.screenshot)
    assert_clean(visit)
    assert_not_blank(visit.screenshot)
    assert visit.overflow <= 0  # nothing wider than the screen: no sideways scrolling
    config = load_theme(EXAMPLE).config
    text = visit.text
    assert "Optimizing inference pipelines: p50 latency 28 ms → 19 ms (−32%)" in text
    assert "Tomorrow: Optimizing inference pipelines" in text
    for block in config.model_dump()["calendar"]["blocks"]:
        assert block["title"] in text


def test_the_check_catches_a_page_that_reaches_out(browser: Browser, tmp_path: Path) -> None:
    """The same browser check fails a page that loads from the network or logs an error."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><p>hi</p><img src="https://example.invalid/a.png">'
        '<script>console.error("broken")</script>',
        encoding="utf-8",
    )
    visit = browser.visit(page.as_uri())
    assert "https://example.invalid/a.png" in visit.requests
    assert "broken" in visit.errors
    with pytest.raises(AssertionError):
        assert_clean(visit)


def test_the_onepager_html_in_chromium(browser: Browser, tmp_path: Path) -> None:
    out = tmp_path / "onepager.html"
    result = CliRunner().invoke(cli, ["onepager", "--config", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    visit = browser.visit(out.as_uri(), width=390)
    assert_clean(visit)
    assert_not_blank(visit.screenshot)
    assert visit.overflow <= 0
    assert "−9 ms (−32%)" in visit.text and "Next steps".upper() in visit.text.upper()
