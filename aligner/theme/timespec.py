"""Time expressions used everywhere in the theme file.

A time field is one of:
- an ISO 8601 date-time with an offset or ``Z``: an absolute instant;
- an ISO 8601 local date-time without offset: read in the theme timezone;
- a signed duration relative to an anchor (the interview start): ``-24h``, ``-90m``,
  ``+1d``, ``-2h30m``.

Days (``d``) and weeks (``w``) move along the local calendar (``-1d`` is the same wall-clock
time the day before, even across a DST change); hours, minutes and seconds are elapsed time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(
    r"^(?P<sign>[+-])?\s*(?:(?P<w>\d{1,12})w)?\s*(?:(?P<d>\d{1,12})d)?\s*"
    r"(?:(?P<h>\d{1,12})h)?\s*(?:(?P<m>\d{1,12})m)?\s*(?:(?P<s>\d{1,12})s)?$",
    re.ASCII,
)
MAX_DURATION = timedelta(days=366)  # any duration or offset, so every date stays in range
FIRST_YEAR, LAST_YEAR = 1971, 2200  # every resolved instant lies in these years (UTC)
MAX_ZONE_NAME = 64


class TimeSpecError(ValueError):
    """A time expression could not be understood."""


def load_zone(name: str) -> ZoneInfo:
    shown = name if len(name) <= MAX_ZONE_NAME else f"{name[:MAX_ZONE_NAME]}…"
    problem = TimeSpecError(
        f"unknown timezone {shown!r} (use an IANA name such as 'America/Los_Angeles')"
    )
    if len(name) > MAX_ZONE_NAME or not name.isprintable():
        raise problem
    try:  # "America" is a folder of zones, a very long name is no file name: both are unknown
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError) as exc:
        raise problem from exc


def is_duration(text: str) -> bool:
    text = text.strip()
    return bool(text) and text[0] in "+-" and _match_duration(text) is not None


def _match_duration(text: str) -> re.Match[str] | None:
    match = _DURATION.match(text.strip())
    if match is None or not any(match.group(k) for k in "wdhms"):
        return None
    return match


def parse_duration(text: str) -> tuple[int, timedelta]:
    """Return (signed calendar days, signed elapsed time) for a duration like ``-1d2h``."""
    match = _match_duration(text)
    if match is None:
        raise TimeSpecError(f"{text!r} is not a duration (examples: '2h', '-90m', '+1d', '-2h30m')")
    sign = -1 if match.group("sign") == "-" else 1
    days = int(match.group("w") or 0) * 7 + int(match.group("d") or 0)
    seconds = (
        int(match.group("h") or 0) * 3600
        + int(match.group("m") or 0) * 60
        + int(match.group("s") or 0)
    )
    if days * 86400 + seconds > MAX_DURATION.total_seconds():
        raise TimeSpecError(f"{text.strip()!r} is too long (at most {MAX_DURATION.days} days)")
    return sign * days, sign * timedelta(seconds=seconds)


def duration_length(text: str) -> timedelta:
    """An unsigned length such as a block's ``duration = "2h"`` (days count as 24 hours)."""
    days, elapsed = parse_duration(text)
    length = timedelta(days=days) + elapsed
    if length <= timedelta(0):
        raise TimeSpecError(f"{text!r} must be a positive duration")
    return length


def shift(anchor: datetime, days: int, elapsed: timedelta, zone: tzinfo) -> datetime:
    """Move `anchor` by calendar days in `zone`, then by elapsed time. Returns UTC."""
    local = anchor.astimezone(zone)
    if days:
        wall = local.replace(tzinfo=None) + timedelta(days=days)
        local = localize(wall, zone)
    return (local.astimezone(UTC) + elapsed).astimezone(UTC)


def localize(wall: datetime, zone: tzinfo) -> datetime:
    """Attach `zone` to a naive wall-clock time; refuse a time skipped by a DST change."""
    aware = wall.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != wall:
        raise TimeSpecError(
            f"{wall.isoformat(timespec='minutes')} does not exist in {zone} "
            "(the clocks skip it for daylight saving time)"
        )
    return aware


def parse_instant(text: str, zone: tzinfo, anchor: datetime | None = None) -> datetime:
    """Parse a time field into an aware UTC datetime."""
    text = text.strip()
    if is_duration(text):
        if anchor is None:
            raise TimeSpecError(f"{text!r} is relative, but there is nothing to be relative to")
        days, elapsed = parse_duration(text)
        return _in_range(shift(anchor, days, elapsed, zone), text)
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise TimeSpecError(
            f"{text!r} is not a time (use ISO 8601 like '2026-12-03T10:00', "
            "'2026-12-03T18:00Z', or a duration relative to the interview like '-24h')"
        ) from exc
    _in_range(parsed, text)
    if parsed.tzinfo is None:
        parsed = localize(parsed, zone)
    return _in_range(parsed.astimezone(UTC), text)


def _in_range(moment: datetime, text: str) -> datetime:
    """Refuse years far from now, so that no later arithmetic leaves datetime's range."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise TimeSpecError(
            f"{text.strip()!r} is out of range (use a time between {FIRST_YEAR} and {LAST_YEAR})"
        )
    return moment


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise TimeSpecError("a naive datetime has no meaning here; attach a timezone")
    return value.astimezone(UTC)
