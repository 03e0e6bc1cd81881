"""`aligner preview` shows the Teams status message as colleagues see it."""

from __future__ import annotations

import html
import re
from pathlib import Path

from click.testing import CliRunner

from aligner.cli import cli
from tests.conftest import DURING
from tests.surfaces.teams_status.helpers import THEMED, teams_theme


def test_preview_shows_the_teams_status_card(tmp_path: Path) -> None:
    theme = teams_theme(tmp_path)
    out = tmp_path / "page.html"
    result = CliRunner().invoke(
        cli, ["preview", "--config", str(theme), "--out", str(out), "--at", DURING]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", out.read_text("utf-8"))).split())
    assert "Teams status" in text
    assert THEMED in text
    assert "colleagues see it in Teams" in text
