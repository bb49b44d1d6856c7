"""Instants and local time.

Footfall stores every instant as integer milliseconds since the Unix epoch (UTC), so the
arithmetic is exact on every engine. A location's zone is an IANA name (DST-aware) or a
fixed `±HH:MM` offset; rendering always uses the offset in force at that instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EPOCH",
    "MS_PER_HOUR",
    "ZoneError",
    "format_local",
    "format_local_seconds",
    "format_offset",
    "from_ms",
    "now_ms",
    "parse_zone",
    "to_ms",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_PER_HOUR = 3_600_000
_ONE_MS = timedelta(milliseconds=1)
_FIXED_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


class ZoneError(ValueError):
    """Not an IANA time zone name nor a `±HH:MM` offset."""


@lru_cache(maxsize=512)
def parse_zone(name: str) -> tzinfo:
    """The tzinfo for an IANA name (`Europe/Paris`) or a fixed offset (`+05:30`)."""
    match = _FIXED_OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes) > 59:
            raise ZoneError(f"{name!r} is not a valid UTC offset (expected -14:00 to +14:00)")
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    if name.upper() == "UTC" or name == "Z":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(
            f"{name!r} is not a time zone: expected an IANA name such as "
            "'America/New_York' or a fixed offset such as '+05:30'"
        ) from None


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime, finer digits truncated."""
    return (moment - EPOCH) // _ONE_MS


def from_ms(ms: int, zone: tzinfo = UTC) -> datetime:
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone)


def now_ms() -> int:
    return to_ms(datetime.now(UTC))


def format_offset(offset: timedelta | None) -> str:
    seconds = int((offset or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def format_local(ms: int, zone: tzinfo) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm±HH:MM` in the zone's offset at that instant."""
    local = from_ms(ms, zone)
    return (
        f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}"
        f"{format_offset(local.utcoffset())}"
    )


def format_local_seconds(ms: int, zone: tzinfo) -> str:
    """`YYYY-MM-DDTHH:MM:SS±HH:MM` in the zone's offset at that instant."""
    local = from_ms(ms, zone)
    return f"{local:%Y-%m-%dT%H:%M:%S}{format_offset(local.utcoffset())}"
