"""Plan detail lines show expiries as local times, whichever way a vendor writes them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aligner.render.text import value_diff

ZONE = ZoneInfo("America/Los_Angeles")


def test_an_iso_expiry_reads_as_a_local_time_and_none_as_never() -> None:
    lines = value_diff(
        {"message": "a", "expires_at": None},
        {"message": "a", "expires_at": "2026-12-03T19:00:00Z"},
        ZONE,
        indent="",
    )
    assert lines == ["expires_at: never → Thu 03 Dec 2026 11:00 PST"]


def test_unix_seconds_still_read_as_a_local_time() -> None:
    lines = value_diff({"expiration": 0}, {"expiration": 1796324400}, ZONE, indent="")
    assert lines == ["expiration: never → Thu 03 Dec 2026 11:00 PST"]


def test_an_expiry_that_is_not_a_time_is_shown_as_it_is() -> None:
    lines = value_diff({"expires_at": "soon"}, {"expires_at": None}, ZONE, indent="")
    assert lines == ["expires_at: “soon” → never"]
