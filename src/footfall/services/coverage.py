"""Coverage: record heartbeat marks, and read covered seconds back.

Writes run inside a transaction that holds the location's row lock (an events batch, or
a heartbeat request): `folded_marks` reads the quarters a mark can change, folds the
marks in (`domain.coverage.fold`, independent of arrival order) and gives back only the
rows that changed, which the transaction then writes. A stored row whose marks cannot be
read (a poisoned row) is logged and rebuilt from the new marks, never a reason to refuse
a batch.

Reads (`channel_coverage`) give the covered seconds of any span: whole quarters from the
stored figures, a partial quarter (the one holding `now`, or the edge of an hour that is
not on a quarter-hour) from its marks and those of the quarter before. A channel's
coverage is *known* from the first quarter with a row on; earlier it is unknown, not
zero (installs upgraded from before coverage existed, channels not watched yet).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import Connection

from footfall.domain.coverage import (
    QUARTER_S,
    Marks,
    MarksError,
    appended,
    covered_seconds,
    decode_marks,
    encode_marks,
    fold,
    quarter_of,
    quarters_to_load,
)
from footfall.domain.ingest import EventRow
from footfall.store import coverage as store
from footfall.store.upserts import Upsert

__all__ = ["ChannelCoverage", "channel_coverage", "event_marks", "folded_marks"]

log = logging.getLogger("footfall.coverage")
_MS_PER_QUARTER = QUARTER_S * 1000
_EVENT_TIME = itemgetter(11)
_CHANNEL = itemgetter(4)


def event_marks(rows: Sequence[EventRow]) -> dict[str, Marks]:
    """An events batch is a heartbeat for each channel it carries: ok, at the channel's
    latest event of each quarter-hour the batch touches (the camera was seeing then). So
    a quarter-hour, and any report bucket made of them, that holds an event of a channel
    is never reported as not covered, even from a backlog spanning hours."""
    # In time order, the last write per (channel, quarter) is its latest event: one C
    # sort, then a dictionary built in C when the batch lies in one quarter (the usual
    # case), else one comprehension.
    ordered = sorted(rows, key=_EVENT_TIME)
    if not ordered:
        return {}
    if ordered[0][11] // _MS_PER_QUARTER == ordered[-1][11] // _MS_PER_QUARTER:
        by_channel = dict(zip(map(_CHANNEL, ordered), map(_EVENT_TIME, ordered), strict=True))
        return {channel: {when // 1000: True} for channel, when in by_channel.items()}
    latest = {(row[4], row[11] // _MS_PER_QUARTER): row[11] for row in ordered}
    marks: dict[str, Marks] = {}
    for (channel, _quarter), when in latest.items():
        marks.setdefault(channel, {})[when // 1000] = True
    return marks


def _decoded(location_id: int, channel: str, quarter_s: int, text: str) -> Marks:
    try:
        return decode_marks(text, quarter_s)
    except MarksError as exc:
        log.warning(
            "coverage of location %s channel %r at %s: %s; rebuilding it from new marks",
            location_id,
            channel,
            quarter_s,
            exc,
        )
        return {}


def folded_marks(conn: Connection, location_id: int, marks: Mapping[str, Marks]) -> Upsert:
    """New marks (channel -> {epoch second: ok}) folded into the stored quarters: the rows
    that change, to send with `upserts.run` in the same transaction (which holds the
    location's lock from before this read to the write)."""
    marks = {channel: new for channel, new in marks.items() if new}
    if not marks:
        return store.quarters(location_id, [])
    wanted = sorted({q * 1000 for new in marks.values() for q in quarters_to_load(new)})
    stored = store.load_marks(conn, location_id, sorted(marks), wanted)
    rows: list[tuple[str, int, int, str]] = []
    for channel, new in sorted(marks.items()):
        if len(new) == 1:
            ((second, ok),) = new.items()
            quarter_s = quarter_of(second)
            row = stored.get((channel, quarter_s * 1000))
            shortcut = appended(row[0], quarter_s, row[1], second) if ok and row else None
            if shortcut is not None:
                # The batch's latest second, as usual: no need to read every mark.
                rows.append((channel, quarter_s * 1000, shortcut[1], shortcut[0]))
                continue
        loaded = {
            q // 1000: _decoded(location_id, channel, q // 1000, text)
            for (c, q), (text, _covered) in stored.items()
            if c == channel
        }
        for quarter_s, (quarter_marks, covered) in fold(loaded, new).items():
            rows.append(
                (channel, quarter_s * 1000, covered, encode_marks(quarter_marks, quarter_s))
            )
    return store.quarters(location_id, rows)


@dataclass(frozen=True)
class ChannelCoverage:
    """One channel's stored coverage over the window it was read for."""

    location_id: int
    channel_id: str
    known_from: int | None  # ms: the first quarter with a row (None: never covered)
    covered: dict[int, int]  # quarter start ms -> covered seconds
    texts: dict[int, str]  # quarter start ms -> marks text, decoded only when needed

    def known(self, end: int) -> bool:
        """Whether coverage says anything about a span ending at `end`."""
        return self.known_from is not None and end > self.known_from

    def seconds(self, start: int, end: int) -> int:
        """Covered seconds of [start, end) (ms, inside the window read)."""
        total = 0
        quarter = start - start % _MS_PER_QUARTER
        while quarter < end:
            q_end = quarter + _MS_PER_QUARTER
            if start <= quarter and q_end <= end:
                total += self.covered.get(quarter, 0)
            else:  # a partial quarter: from the marks that reach into it
                marks = {**self._marks(quarter - _MS_PER_QUARTER), **self._marks(quarter)}
                # Seconds begun before `end` count (a report up to now includes this one).
                low, high = max(start, quarter) // 1000, -(-min(end, q_end) // 1000)
                total += covered_seconds(marks, low, high)
            quarter = q_end
        return total

    def _marks(self, quarter: int) -> Marks:
        text = self.texts.get(quarter)
        if not text:
            return {}
        return _decoded(self.location_id, self.channel_id, quarter // 1000, text)


def channel_coverage(
    conn: Connection,
    location_id: int,
    channel_ids: Sequence[str] | None,
    since: int,
    until: int,
) -> dict[str, ChannelCoverage]:
    """The stored coverage of the location's channels (or those given) for reading any
    span inside [since, until) (ms)."""
    first = store.first_quarters(conn, location_id, channel_ids)
    rows = store.quarter_rows(
        conn,
        location_id,
        channel_ids,
        since - since % _MS_PER_QUARTER - _MS_PER_QUARTER,
        until,
    )
    out: dict[str, ChannelCoverage] = {}
    for channel in channel_ids if channel_ids is not None else sorted(first):
        out[channel] = ChannelCoverage(location_id, channel, first.get(channel), {}, {})
    for channel, quarter, covered, text in rows:
        entry = out.get(str(channel))
        if entry is not None:
            entry.covered[int(quarter)] = int(covered)
            entry.texts[int(quarter)] = str(text)
    return out
