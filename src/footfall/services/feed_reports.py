"""A report feed's figures for now: its period resolved in the location's time zone, each
series built (`feed_series`), and with the feed's coverage, the covered share of each
bucket.

Coverage: every series gets, per bucket, the share (0-1) of the bucket's elapsed time its
channels were covered (the mean over the channels whose coverage is known then), and a
bucket whose channels were not covered at all has the value `null`, not 0: an offline
camera is not a quiet hour. Where no channel of a series has coverage yet (an agent that
never sent a heartbeat, data from before coverage existed) the coverage is `null` and the
value is as it always was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection

from footfall.domain.feeds import buckets, period_range
from footfall.domain.times import format_local, format_local_seconds, now_ms, parse_zone
from footfall.services import coverage as coverage_service
from footfall.services.errors import NotFoundError
from footfall.services.feed_series import (
    Value,
    count_series,
    counter_total,
    dwell_series,
    occupancy_series,
    queue_series,
)
from footfall.services.management import hash_token
from footfall.store import feeds as store
from footfall.store import locations as location_store
from footfall.store.db import Database
from footfall.store.feeds import FeedRow

__all__ = ["Report", "build_report"]


@dataclass(frozen=True)
class Report:
    feed: FeedRow
    zone: tzinfo
    since: int
    until: int
    starts: list[int]
    series: list[tuple[str, list[Value]]]
    counter: int | None = None
    # With the feed's coverage: per series a share per bucket (or, for `counter`, one).
    coverage: list[list[float | None]] | None = None
    counter_coverage: float | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any]
        if self.feed.metric == "counter":
            data = {"counter": self.counter}
            if self.feed.coverage:
                data["coverage"] = self.counter_coverage
        else:
            shares = self.coverage or [[None] * len(self.starts) for _ in self.series]
            data = {
                "series": [
                    {
                        "name": name,
                        "data": [
                            {"time": format_local_seconds(start, self.zone), "value": value}
                            | ({"coverage": share} if self.feed.coverage else {})
                            for start, value, share in zip(
                                self.starts, values, covered, strict=True
                            )
                        ],
                    }
                    for (name, values), covered in zip(self.series, shares, strict=True)
                ]
            }
        return {
            "report": {
                "name": self.feed.name,
                "metric": self.feed.metric,
                "granularity": self.feed.granularity,
                "since": format_local(self.since, self.zone),
                "until": format_local(self.until, self.zone),
                "data": data,
            }
        }

    def csv_rows(self) -> tuple[list[str], list[tuple[str, Sequence[Value]]]]:
        """Times and columns; with coverage, each series is followed by its coverage."""
        if self.feed.metric == "counter":
            columns: list[tuple[str, Sequence[Value]]] = [(self.feed.name, [self.counter])]
            if self.feed.coverage:
                columns.append((f"{self.feed.name} coverage", [self.counter_coverage]))
            return [_csv_time(self.since, self.zone)], columns
        if not self.feed.coverage or self.coverage is None:
            return [_csv_time(s, self.zone) for s in self.starts], list(self.series)
        columns = []
        for (name, values), shares in zip(self.series, self.coverage, strict=True):
            columns += [(name, values), (f"{name} coverage", shares)]
        return [_csv_time(s, self.zone) for s in self.starts], columns


def _csv_time(ms: int, zone: tzinfo) -> str:
    return format_local_seconds(ms, zone)[:16].replace("T", " ")


def build_report(db: Database, token: str, now: int | None = None) -> Report:
    now = now_ms() if now is None else now
    with db.read() as conn:
        feed = store.get_feed(conn, hash_token(token))
        if feed is None or feed.revoked_at is not None:
            raise NotFoundError("no such feed")
        location = location_store.get_location(conn, feed.location_id)
        assert location is not None
        zone = parse_zone(location.timezone)
        if feed.period is not None:
            since, until = period_range(feed.period, now, zone)
        else:
            assert feed.since_ms is not None
            assert feed.until_ms is not None
            since, until = feed.since_ms, feed.until_ms
        spans = buckets(since, until, feed.granularity, zone)
        report = Report(feed, zone, since, until, [s for s, _ in spans], [])
        if feed.metric == "counter":
            counted, channels = counter_total(conn, feed, since, until, now)
            if not feed.coverage:
                return replace(report, counter=counted)
            share = _shares(conn, feed, [(since, until)], [channels], now)[0][0]
            return replace(report, counter=None if share == 0 else counted, counter_coverage=share)
        builder = {
            "count": count_series,
            "dwell": dwell_series,
            "queue": queue_series,
            "occupancy": occupancy_series,
        }[feed.metric]
        built = builder(conn, feed, zone, spans, now)
        series = [(name, values) for name, values, _ in built]
        if not feed.coverage:
            return replace(report, series=series)
        shares = _shares(conn, feed, spans, [channels for _, _, channels in built], now)
        return replace(
            report,
            # Nothing covered at all: the figure would be a guess; null, not 0.
            series=[
                (name, [None if c == 0 else v for v, c in zip(values, covered, strict=True)])
                for (name, values), covered in zip(series, shares, strict=True)
            ],
            coverage=shares,
        )


def _shares(
    conn: Connection,
    feed: FeedRow,
    spans: Sequence[tuple[int, int]],
    channel_sets: Sequence[frozenset[str]],
    now: int,
) -> list[list[float | None]]:
    """Per series and bucket, the covered share of the bucket's elapsed part (mean over
    the series' channels with known coverage; None where none is known or the bucket has
    not started)."""
    everything = sorted(set().union(*channel_sets)) if channel_sets else []
    if not spans or not everything:
        return [[None] * len(spans) for _ in channel_sets]
    stored = coverage_service.channel_coverage(
        conn, feed.location_id, everything, spans[0][0], min(spans[-1][1], now + 1)
    )
    out: list[list[float | None]] = []
    for channels in channel_sets:
        shares: list[float | None] = []
        for start, end in spans:
            stop = min(end, now)
            known = [stored[c] for c in sorted(channels) if stored[c].known(stop)]
            if start > now or not known:
                shares.append(None)
                continue
            elapsed = max(1, -(-(stop - start) // 1000))
            share = sum(min(1.0, c.seconds(start, stop) / elapsed) for c in known) / len(known)
            # Three decimals, but never a covered bucket shown as 0 (its value is real).
            shares.append(0.0 if share == 0 else max(0.001, round(share, 3)))
        out.append(shares)
    return out
