"""Time fields: ISO local, ISO with offset, and durations relative to the interview, DST-correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aligner.theme.timespec import (
    TimeSpecError,
    duration_length,
    is_duration,
    parse_duration,
    parse_instant,
)

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_local_time_is_read_in_the_theme_zone() -> None:
    assert parse_instant("2026-12-03T10:00", LA) == utc("2026-12-03T18:00:00+00:00")
    assert parse_instant("2026-07-03T10:00", LA) == utc("2026-07-03T17:00:00+00:00")


def test_explicit_offsets_win_over_the_zone() -> None:
    assert parse_instant("2026-12-03T18:00Z", LA) == utc("2026-12-03T18:00:00+00:00")
    assert parse_instant("2026-12-03T19:00+01:00", LA) == utc("2026-12-03T18:00:00+00:00")


@pytest.mark.parametrize(
    ("text", "days", "elapsed"),
    [
        ("-24h", 0, timedelta(hours=-24)),
        ("-90m", 0, timedelta(minutes=-90)),
        ("+1d", 1, timedelta(0)),
        ("-2h30m", 0, -timedelta(hours=2, minutes=30)),
        ("-1w2d", -9, timedelta(0)),
        ("+45s", 0, timedelta(seconds=45)),
    ],
)
def test_durations(text: str, days: int, elapsed: timedelta) -> None:
    assert parse_duration(text) == (days, elapsed)


def test_relative_needs_a_sign_to_be_a_time() -> None:
    assert is_duration("-24h") and is_duration("+1d")
    assert not is_duration("24h") and not is_duration("2026-12-03")


def test_hours_are_elapsed_time_across_a_dst_change() -> None:
    # Interview Sunday 2026-03-08 10:00 PDT (the clocks sprang forward that night at 02:00).
    anchor = parse_instant("2026-03-08T10:00", LA)
    assert parse_instant("-24h", LA, anchor) == anchor - timedelta(hours=24)
    # 24 elapsed hours before 10:00 PDT is 09:00 PST the day before.
    assert parse_instant("-24h", LA, anchor).astimezone(LA).hour == 9


def test_days_follow_the_local_calendar_across_a_dst_change() -> None:
    anchor = parse_instant("2026-03-08T10:00", LA)
    day_before = parse_instant("-1d", LA, anchor).astimezone(LA)
    assert (day_before.day, day_before.hour, day_before.minute) == (7, 10, 0)
    assert anchor - parse_instant("-1d", LA, anchor) == timedelta(hours=23)


def test_fall_back_day_is_25_hours_long() -> None:
    anchor = parse_instant("2026-11-01T10:00", LA)  # the clocks fell back at 02:00 that night
    assert anchor - parse_instant("-1d", LA, anchor) == timedelta(hours=25)


def test_a_skipped_local_time_is_an_error() -> None:
    with pytest.raises(TimeSpecError, match="does not exist"):
        parse_instant("2026-03-08T02:30", LA)


def test_an_ambiguous_local_time_takes_the_first_occurrence() -> None:
    assert parse_instant("2026-11-01T01:30", LA) == utc("2026-11-01T08:30:00+00:00")


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(TimeSpecError, match="not a time"):
        parse_instant("tomorrow morning", LA)
    with pytest.raises(TimeSpecError, match="nothing to be relative to"):
        parse_instant("-2h", LA)


def test_lengths() -> None:
    assert duration_length("2h") == timedelta(hours=2)
    assert duration_length("90m") == timedelta(minutes=90)
    with pytest.raises(TimeSpecError):
        duration_length("0m")
    with pytest.raises(TimeSpecError):
        duration_length("two hours")


@given(
    hours=st.integers(min_value=0, max_value=24 * 14),
    minutes=st.integers(min_value=0, max_value=59),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1)),
)
def test_elapsed_durations_are_exact_in_any_zone(hours: int, minutes: int, start: datetime) -> None:
    anchor = start.replace(tzinfo=UTC)
    moved = parse_instant(f"-{hours}h{minutes}m", BERLIN, anchor)
    assert anchor - moved == timedelta(hours=hours, minutes=minutes)


@given(
    days=st.integers(min_value=1, max_value=60),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1)),
)
def test_calendar_days_keep_the_wall_clock_time(days: int, start: datetime) -> None:
    anchor = start.replace(tzinfo=UTC)
    local = anchor.astimezone(BERLIN)
    try:
        moved = parse_instant(f"-{days}d", BERLIN, anchor).astimezone(BERLIN)
    except TimeSpecError:
        return  # the same wall-clock time does not exist that day (a DST gap)
    assert (moved.hour, moved.minute) == (local.hour, local.minute)
    assert (local.date() - moved.date()).days == days
