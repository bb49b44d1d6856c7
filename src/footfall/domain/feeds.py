"""Report feed rules (docs/api.md, Report feeds) as pure functions: periods, buckets, formats.

Buckets are aligned to the location's local time: 15-minute buckets on quarter-hours
(every zone's offset is a multiple of 15 minutes), hourly buckets on local hours (23 or 25
of them on DST days, the repeated hour twice, in time order), daily buckets on local
midnights. The first bucket starts at `since` floored to the granularity.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final
from urllib.parse import quote

from footfall.domain.histogram import hour_start, local_hours
from footfall.domain.times import from_ms, to_ms

__all__ = [
    "GRANULARITIES",
    "METRICS",
    "PERIODS",
    "Bucket",
    "buckets",
    "content_disposition",
    "csv_document",
    "local_midnight",
    "period_range",
]

METRICS: Final = ("count", "occupancy", "queue", "dwell", "counter")
PERIODS: Final = (
    "today",
    "yesterday",
    "last_7_days",
    "last_30_days",
    "this_week",
    "this_month",
)
GRANULARITIES: Final = ("15min", "hour", "day")
_QUARTER: Final = 900_000

Bucket = tuple[int, int]


def local_midnight(day: date, zone: tzinfo) -> int:
    return to_ms(datetime.combine(day, time(0), tzinfo=zone))


def period_range(period: str, now: int, zone: tzinfo) -> tuple[int, int]:
    """[since, until) of a named period at `now`. Calendar periods (today, this_week,
    this_month) run to their end; rolling ones (last_N_days) end now."""
    today = from_ms(now, zone).date()
    if period == "today":
        return local_midnight(today, zone), local_midnight(today + timedelta(days=1), zone)
    if period == "yesterday":
        return local_midnight(today - timedelta(days=1), zone), local_midnight(today, zone)
    if period in ("last_7_days", "last_30_days"):
        days = 7 if period == "last_7_days" else 30
        return now - days * 86_400_000, now
    if period == "this_week":
        monday = today - timedelta(days=today.weekday())
        return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)
    if period == "this_month":
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return local_midnight(first, zone), local_midnight(following, zone)
    raise ValueError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")


def buckets(since: int, until: int, granularity: str, zone: tzinfo) -> list[Bucket]:
    if until <= since:
        return []
    if granularity == "15min":
        first = since - since % _QUARTER
        return [(q, q + _QUARTER) for q in range(first, until, _QUARTER)]
    if granularity == "hour":
        return local_hours(zone, hour_start(zone, since), until)
    if granularity == "day":
        day = from_ms(since, zone).date()
        out: list[Bucket] = []
        start = local_midnight(day, zone)
        while start < until:
            day += timedelta(days=1)
            end = local_midnight(day, zone)
            out.append((start, end))
            start = end
        return out
    raise ValueError(f"unknown granularity {granularity!r}: expected 15min, hour or day")


# A spreadsheet reads a cell starting with one of these as a formula (OWASP CSV injection);
# names come from edge agents, so such text cells get a leading apostrophe. Spreadsheets
# skip leading blanks and line breaks before a formula sign and read the full-width and
# small forms (U+FF1D, U+FE66 and the like) as the ASCII ones, so those are looked through too.
_FORMULA_SIGNS: Final = frozenset("=+-@\u2212")
_OPENING_CONTROLS: Final = ("\t", "\r")


def _skipped(char: str) -> bool:
    """Characters a spreadsheet may pass over before it meets a formula sign."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _starts_formula(value: str) -> bool:
    if value.startswith(_OPENING_CONTROLS):
        return True
    for char in value:
        if not _skipped(char):
            return unicodedata.normalize("NFKC", char) in _FORMULA_SIGNS
    return False


def _cell(value: str | float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        if _starts_formula(value):
            value = "'" + value
        return '"' + value.replace('"', '""') + '"'
    return str(value)


def content_disposition(name: str, extension: str) -> str:
    """RFC 6266: an ASCII `filename` anyone can read, and the full name in `filename*`."""
    full = f"{name}{extension}"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%;' else "_" for c in full)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(full, safe='')}"


def csv_document(
    times: Sequence[str], series: Sequence[tuple[str, Sequence[float | int | None]]]
) -> str:
    """RFC 4180: CRLF line ends, text quoted (quotes doubled), numbers bare, and a bucket
    without data an empty cell (a measured zero is `0`); text that a spreadsheet would run
    as a formula is prefixed with `'` (docs/api.md, Report feeds)."""
    lines = [",".join(_cell(c) for c in ["Date", *(name for name, _ in series)])]
    for index, when in enumerate(times):
        lines.append(",".join([_cell(when), *(_cell(values[index]) for _, values in series)]))
    return "\r\n".join(lines) + "\r\n"
