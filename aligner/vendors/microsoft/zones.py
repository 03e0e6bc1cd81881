"""Time zones as Microsoft Graph names them in a dateTimeTimeZone: IANA or Windows ids.

Graph's dateTimeTimeZone (https://learn.microsoft.com/en-us/graph/api/resources/datetimetimezone)
carries a wall-clock `dateTime` and a `timeZone` that may be a Windows time-zone id
("Pacific Standard Time") as well as an IANA name. Windows ids are mapped to IANA through the
table tzlocal ships (generated from CLDR's windowsZones.xml, the mapping Unicode maintains),
imported only when a Windows id is met.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str) -> ZoneInfo | None:
    """The zone `name` stands for (an IANA name or a Windows id), or None when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    from tzlocal.windows_tz import win_tz

    iana = win_tz.get(name)
    if iana is None:
        return None
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        return None
