"""Instants and local time.

Footfall stores every instant as integer milliseconds since the Unix epoch (UTC), so the
arithmetic is exact on every engine. A location's zone is an IANA name (DST-aware) or a
fixed `±HH:MM` offset; rendering always uses the offset in force at that instant.

Invariants:
- One parser, `parse_instant`, reads every instant a client sends (ingest `event_time`,
  read-API `since`/`until`, feed periods): `YYYY-MM-DDTHH:MM[:SS[.f]]` with 1 to 9 fraction
  digits (kept to the millisecond, finer digits truncated) and `Z` or `±HH:MM` (at most
  14:00). Nothing else of ISO 8601 (week dates, basic format, a space for the `T`).
- Rendering never fails: any int64 of milliseconds is rendered, even outside the years
  1-9999 that `datetime` holds (older data may hold such values).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EPOCH",
    "INSTANT_FORM",
    "INSTANT_PATTERN",
    "MS_PER_HOUR",
    "QUERY_INSTANT_PATTERN",
    "InstantError",
    "ZoneError",
    "format_local",
    "format_local_seconds",
    "format_offset",
    "format_utc",
    "from_ms",
    "now_ms",
    "parse_instant",
    "parse_instants",
    "parse_zone",
    "to_ms",
    "zone_name_problem",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_PER_HOUR = 3_600_000
_ONE_MS = timedelta(milliseconds=1)
_FIXED_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
INSTANT_FORM = "YYYY-MM-DDTHH:MM[:SS[.fff]] followed by Z or ±HH:MM"
# The whole grammar, calendar included (no February 30th, February 29th in leap years
# only), in the dialect Python and ECMA-262 share: the OpenAPI document publishes exactly
# these patterns, so a text matching them is one the server accepts, and the reverse.
# `datetime.fromisoformat` (C, fast) then reads a matching text.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_MONTH_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
_LEAP_DAY = (
    "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
)
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
_ZONE = "(?:0[0-9]|1[0-4]):[0-5][0-9]"
_DATE_TIME = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})T{_CLOCK}"
INSTANT_PATTERN: Final = f"{_DATE_TIME}(?:Z|[+-]{_ZONE})"
# The read API's query form: a `+` that URL decoding turned into a space is a `+`.
QUERY_INSTANT_PATTERN: Final = f"{_DATE_TIME}(?:Z|[+ -]{_ZONE})"
_INSTANT = re.compile(INSTANT_PATTERN)
_LOOSE_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
# 400 Gregorian years are exactly 146,097 days: shifting by them keeps every date's
# calendar and weekday, so an instant outside datetime's range renders exactly.
_CYCLE_MS = 146_097 * 86_400_000
_LOW_MS = -62_135_596_800_000 + 2 * 86_400_000  # 0001-01-03T00:00Z, room for any offset
_HIGH_MS = 253_402_300_800_000 - 2 * 86_400_000  # 9999-12-30T00:00Z


# A tz database name (docs/api.md, PUT /ingest/v1/config): ASCII letters, digits, `_`, `-`
# and `+` in at most three `/`-separated parts, the first starting with a letter (the tz
# rules: no `.`, `..` or absolute path, so the name never leaves the zoneinfo directory).
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}")
# The longest tz database name is 32 characters; the column holds 64.
ZONE_NAME_MAX = 64
# Files of the zoneinfo directory that are not zones of the database but the host's own
# settings: a location's time must not depend on the machine it is served from.
_HOST_ZONES = frozenset({"localtime", "posixrules", "Factory"})


class ZoneError(ValueError):
    """Not an IANA time zone name nor a `±HH:MM` offset."""


class InstantError(ValueError):
    """Not an instant of the accepted form; the message says what is wrong."""


# "YYYY-MM-DDTHH:MM" + what follows the milliseconds -> the epoch ms of that minute, learnt
# from texts that passed the full parse. Texts of the shape agents send
# (`...:SS.mmm±HH:MM`, `...:SS.mmmZ`) then need only their seconds and milliseconds read,
# each a dictionary lookup that also checks its digits: a batch repeats a few minutes
# thousands of times (measured per text: full parse 1.5 us, `parse_instant` from the
# cache 0.9 us, `parse_instants`' loop 0.5 us).
_MINUTES: dict[str, int] = {}
_MINUTES_MAX = 4096  # a few days of minutes; then it starts afresh
_SECOND_MS: Final = {f"{s:02d}": s * 1000 for s in range(60)}
_FRACTION_MS: Final = {f"{f:03d}": f for f in range(1000)}
# "SS.mmm" -> its milliseconds: one lookup that also checks the six characters (60,000
# entries, about 7 MB: a third off every batch's parse).
_SECOND_FRACTION_MS: Final = {
    f"{s:02d}.{f:03d}": s * 1000 + f for s in range(60) for f in range(1000)
}


def _cached(text: str) -> int | None:
    """`text` read off the minute cache, or None when it is not of the fast shape or its
    minute is not known yet."""
    if len(text) in (24, 29) and text[16] == ":" and text[19] == ".":
        minute = _MINUTES.get(text[:16] + text[23:])
        second = _SECOND_MS.get(text[17:19])
        fraction = _FRACTION_MS.get(text[20:23])
        if minute is not None and second is not None and fraction is not None:
            return minute + second + fraction
    return None


def _learn(text: str, ms: int) -> None:
    """Remember the minute of a text of the fast shape that passed the full parse."""
    if len(text) in (24, 29) and text[16] == ":" and text[19] == ".":
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[text[:16] + text[23:]] = ms - int(text[17:19]) * 1000 - int(text[20:23])


def parse_instant(text: str) -> int:
    """Milliseconds since the epoch of `text` (see the module docstring for the form)."""
    ms = _cached(text)
    if ms is None:
        ms = _parse_fully(text)
        _learn(text, ms)
    return ms


def parse_instants(texts: Iterable[str]) -> list[int] | None:
    """`parse_instant` of each text, or None as soon as one is not an instant (the
    caller then asks `parse_instant` for that one's message).

    The cache lookup is written out in the loop: a function call per text would cost a
    third of the whole (an events batch parses up to 10,000 of them). Consecutive texts
    of one minute and offset (a batch's usual run) are read off that minute without
    building its key again: the same lookups as `_cached`, on the text's seconds and
    milliseconds only."""
    minutes, second_fraction = _MINUTES, _SECOND_FRACTION_MS
    out: list[int] = []
    append = out.append
    # The current run: its "YYYY-MM-DDTHH:MM:", what follows the milliseconds, the
    # length of its texts and the epoch ms of its minute.
    prefix, suffix, size, base = "", "", -1, 0
    for text in texts:
        if len(text) == size and text.startswith(prefix) and text.endswith(suffix):
            ms = second_fraction.get(text[17:23])
            if ms is not None:
                append(base + ms)
                continue
        if len(text) in (24, 29) and text[16] == ":":
            minute = minutes.get(text[:16] + text[23:])
            ms = second_fraction.get(text[17:23])
            if minute is not None and ms is not None:
                prefix, suffix, size, base = text[:17], text[23:], len(text), minute
                append(minute + ms)
                continue
        try:
            append(parse_instant(text))
        except InstantError:
            return None
    return out


def _parse_fully(text: str) -> int:
    if _INSTANT.fullmatch(text) is None:
        raise InstantError(_instant_problem(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:  # the right shape, but e.g. February 30th
        raise InstantError(f"{text!r} is not a valid date-time ({exc})") from None
    # The parts, not `// _ONE_MS`: dividing timedeltas costs a third of this function.
    since = moment - EPOCH
    return since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000


def _instant_problem(text: str) -> str:
    if _LOOSE_ISO.fullmatch(text) is not None:
        return f"{text!r} has no UTC offset: add 'Z' or '±HH:MM'"
    if _LOOSE_ISO.match(text) is not None and re.search(r"[+-]\d{2}:\d{2}$", text):
        return f"{text!r}: the UTC offset must be between -14:00 and +14:00"
    if _LOOSE_ISO.match(text) is not None and re.fullmatch(r".*(?:Z|[+-]\d{2}:\d{2})", text):
        return f"{text!r} is not a valid date and time of day (month, day, hour, minute)"
    return f"{text!r} is not of the form {INSTANT_FORM}, e.g. 2026-11-25T10:15:02.250-05:00"


def zone_name_problem(name: str) -> str | None:
    """Why `name` is not a zone a client may declare (an IANA tz database name or a fixed
    `±HH:MM` offset), or None. Checked on every zone a client sends, before it is stored."""
    if len(name) > ZONE_NAME_MAX:
        return (
            f"a time zone has at most {ZONE_NAME_MAX} characters (got {len(name)}): expected "
            "an IANA name such as 'America/New_York' or a fixed offset such as '+05:30'"
        )
    named = _FIXED_OFFSET.match(name) is None and name.upper() != "UTC" and name != "Z"
    if named and (_ZONE_NAME.fullmatch(name) is None or name in _HOST_ZONES):
        return (
            f"{name!r} is not a time zone of the IANA tz database: expected a name such "
            "as 'America/New_York' or a fixed offset such as '+05:30'"
        )
    try:
        parse_zone(name)
    except ZoneError as exc:
        return str(exc)
    return None


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
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory of the zoneinfo tree, or a name too long for a file name.
        raise ZoneError(
            f"{name!r} is not a time zone: expected an IANA name such as "
            "'America/New_York' or a fixed offset such as '+05:30'"
        ) from None


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime, finer digits truncated."""
    return (moment - EPOCH) // _ONE_MS


def from_ms(ms: int, zone: tzinfo = UTC) -> datetime:
    """The instant as an aware datetime; instants outside the years 1-9999 (which no
    client can send) are clamped to the nearest one datetime can hold."""
    ms = min(max(ms, _LOW_MS), _HIGH_MS)
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone)


def _local(ms: int, zone: tzinfo) -> tuple[datetime, str]:
    """The local datetime of `ms` and its year as text, exact for any int64: outside
    datetime's range the instant is shifted by whole 400-year cycles and the year put back."""
    cycles = 0
    if ms < _LOW_MS:
        cycles = -((_LOW_MS - ms) // _CYCLE_MS + 1)
    elif ms > _HIGH_MS:
        cycles = (ms - _HIGH_MS) // _CYCLE_MS + 1
    local = from_ms(ms - cycles * _CYCLE_MS, zone)
    year = local.year + 400 * cycles
    return local, (f"{year:04d}" if year >= 0 else f"-{-year:04d}")


def now_ms() -> int:
    return to_ms(datetime.now(UTC))


def format_offset(offset: timedelta | None) -> str:
    seconds = int((offset or timedelta()).total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def format_local(ms: int, zone: tzinfo) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm±HH:MM` in the zone's offset at that instant."""
    local, year = _local(ms, zone)
    return (
        f"{year}-{local:%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}"
        f"{format_offset(local.utcoffset())}"
    )


def format_local_seconds(ms: int, zone: tzinfo) -> str:
    """`YYYY-MM-DDTHH:MM:SS±HH:MM` in the zone's offset at that instant."""
    local, year = _local(ms, zone)
    return f"{year}-{local:%m-%dT%H:%M:%S}{format_offset(local.utcoffset())}"


def format_utc(ms: int) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm` in UTC (the webhook payloads' form)."""
    moment, year = _local(ms, UTC)
    return f"{year}-{moment:%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"
