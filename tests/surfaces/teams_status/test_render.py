"""The message template is rendered once, and Graph's shapes become one comparable value."""

from __future__ import annotations

from pathlib import Path

import pytest

from aligner.surfaces.teams_status.surface import CLEARED, rendered_message, request_body, status_of
from aligner.theme.validation import load_theme
from tests.surfaces.teams_status.helpers import THEMED, teams_theme

END = "2026-12-03T19:00:00Z"


def test_the_template_renders_once(tmp_path: Path) -> None:
    config = load_theme(teams_theme(tmp_path)).config
    assert rendered_message(config) == THEMED
    path = teams_theme(tmp_path)
    path.write_text(
        path.read_text().replace(
            'name = "Optimizing inference pipelines"', 'name = "Notes {{ 6 * 7 }}"'
        )
    )
    literal = rendered_message(load_theme(path).config)
    assert literal.startswith("Notes {{ 6 * 7 }}: 28 ms")  # the name is text, not a template
    assert "42" not in literal


@pytest.mark.parametrize(
    ("expiry", "instant"),
    [
        ({"dateTime": "2026-12-03T19:00:00.0000000", "timeZone": "UTC"}, END),
        ({"dateTime": "2026-12-03T11:00:00", "timeZone": "Pacific Standard Time"}, END),
        ({"dateTime": "2026-12-03T11:00:00", "timeZone": "America/Los_Angeles"}, END),
        # any Windows id, not only those in Graph's examples (CLDR's table, through tzlocal)
        ({"dateTime": "2026-12-04T04:00:00", "timeZone": "Tokyo Standard Time"}, END),
        ({"dateTime": "2026-12-03T13:00:00", "timeZone": "Central America Standard Time"}, END),
        ({"dateTime": "2026-12-04T00:30:00", "timeZone": "India Standard Time"}, END),
        ({"dateTime": "9999-12-31T23:59:59.9999999", "timeZone": "UTC"}, None),  # "never"
        (None, None),
    ],
)
def test_an_expiry_in_any_zone_graph_reports_is_one_instant(
    expiry: object, instant: str | None
) -> None:
    node = {"message": {"content": "Heads down", "contentType": "text"}, "expiryDateTime": expiry}
    assert status_of(node) == {"message": "Heads down", "expires_at": instant}


def test_no_message_and_an_empty_message_read_alike() -> None:
    assert status_of(None) == status_of({"message": {"content": ""}}) == CLEARED
    empty = {"message": {"content": "", "contentType": "text"}}
    assert request_body(None) == {"statusMessage": empty}
