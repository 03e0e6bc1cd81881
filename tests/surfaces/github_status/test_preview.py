"""`aligner preview` shows the GitHub profile status as visitors see it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from click.testing import CliRunner

from aligner.cli import cli
from tests.conftest import DURING
from tests.surfaces.github_status.helpers import THEMED, github_theme


def test_preview_shows_the_github_status_card(tmp_path: Path) -> None:
    theme = github_theme(tmp_path)
    out = tmp_path / "page.html"
    result = CliRunner().invoke(
        cli, ["preview", "--config", str(theme), "--out", str(out), "--at", DURING]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "GitHub profile status" in text
    assert f"{THEMED} (busy)" in text
    assert "🚀" in page
