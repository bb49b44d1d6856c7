"""Report feeds (docs/api.md, Report feeds): saved reports behind an unguessable token,
for spreadsheets. This module issues, lists and revokes them; a report's figures are
built by `feed_reports` (re-exported here: the feed service's public face).

A token is shown once and stored only as a hash, like ingest tokens; every option is
checked before anything is stored, each refusal naming the option and what it expects.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from footfall.domain import vocabulary as v
from footfall.domain.feeds import GRANULARITIES, METRICS, PERIODS
from footfall.domain.times import now_ms, to_ms
from footfall.services.errors import NotFoundError, ServiceError
from footfall.services.feed_reports import Report, build_report
from footfall.services.management import hash_token
from footfall.store import feeds as store
from footfall.store import locations as location_store
from footfall.store import occupancy as occupancy_store
from footfall.store.db import Database
from footfall.store.feeds import FeedRow

__all__ = [
    "Feed",
    "IssuedFeed",
    "Report",
    "build_report",
    "create_feed",
    "list_feeds",
    "revoke_feed",
    "revoke_feed_by_id",
]

# A feed as the service hands it out (the stored row: its token is only a hash there).
Feed = FeedRow


@dataclass(frozen=True)
class IssuedFeed:
    """A new feed and its token: shown once, stored only as a hash (like ingest tokens)."""

    feed: FeedRow
    token: str


def _parse_time(option: str, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            f"{option} {text!r}: expected ISO 8601 such as 2026-11-24T00:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise ServiceError(f"{option} {text!r}: add the UTC offset (Z or ±HH:MM)")
    return to_ms(moment)


def create_feed(
    db: Database,
    *,
    location_id: int,
    name: str,
    metric: str,
    triggers: tuple[str, ...] = (),
    occupancy_ids: tuple[int, ...] = (),
    queue_ids: tuple[int, ...] = (),
    event_types: tuple[str, ...] = (),
    origins: tuple[str, ...] = (),
    period: str | None = None,
    since: str | None = None,
    until: str | None = None,
    granularity: str = "hour",
    coverage: bool = False,
) -> IssuedFeed:
    _check_metric(metric, granularity, triggers, occupancy_ids, queue_ids, event_types, origins)
    period, since_ms, until_ms = _window(period, since, until)
    if not name.strip():
        raise ServiceError("--name must not be empty")
    with db.write() as conn:
        location = location_store.get_location(conn, location_id)
        if location is None:
            raise NotFoundError(f"no location {location_id}: see `footfall locations list`")
        _check_targets(conn, location_id, metric, triggers, occupancy_ids, queue_ids)
        token = secrets.token_hex(16)
        feed = FeedRow(
            0,
            location.account_id,
            location_id,
            token[:8],
            name.strip(),
            metric,
            triggers,
            occupancy_ids,
            queue_ids,
            event_types,
            origins,
            period,
            since_ms,
            until_ms,
            granularity,
            now_ms(),
            None,
            coverage,
        )
        return IssuedFeed(replace(feed, id=store.insert_feed(conn, feed, hash_token(token))), token)


def _check_metric(
    metric: str,
    granularity: str,
    triggers: tuple[str, ...],
    occupancy_ids: tuple[int, ...],
    queue_ids: tuple[int, ...],
    event_types: tuple[str, ...],
    origins: tuple[str, ...],
) -> None:
    """The metric, its granularity and the options that apply to it."""
    if metric not in METRICS:
        raise ServiceError(f"--metric {metric!r}: expected one of {', '.join(METRICS)}")
    if granularity not in GRANULARITIES:
        raise ServiceError(f"--granularity {granularity!r}: expected 15min, hour or day")
    if triggers and metric in ("occupancy", "queue"):
        raise ServiceError(f"--triggers does not apply to {metric}: use --{metric} ID")
    if occupancy_ids and metric != "occupancy":
        raise ServiceError("--occupancy only applies to --metric occupancy")
    if queue_ids and metric != "queue":
        raise ServiceError("--queue only applies to --metric queue")
    if (event_types or origins) and metric not in ("count", "counter"):
        raise ServiceError("--event-type and --origin only apply to count and counter")
    for kind in event_types:
        if kind not in v.EVENT_TYPES:
            raise ServiceError(f"--event-type {kind!r}: expected one of {', '.join(v.EVENT_TYPES)}")
    for origin in origins:
        if origin not in v.ORIGINS:
            raise ServiceError(f"--origin {origin!r}: expected one of {', '.join(v.ORIGINS)}")


def _window(
    period: str | None, since: str | None, until: str | None
) -> tuple[str | None, int | None, int | None]:
    """(period, since, until): a named period, or a fixed window; today by default."""
    if period is not None:
        if since is not None or until is not None:
            raise ServiceError("give either --period or --since and --until, not both")
        if period not in PERIODS:
            raise ServiceError(f"--period {period!r}: expected one of {', '.join(PERIODS)}")
        return period, None, None
    if since is not None and until is not None:
        since_ms, until_ms = _parse_time("--since", since), _parse_time("--until", until)
        if since_ms >= until_ms:
            raise ServiceError("--since must be before --until")
        return None, since_ms, until_ms
    if since is not None or until is not None:
        raise ServiceError("--since and --until go together")
    return "today", None, None


def _check_targets(
    conn: Connection,
    location_id: int,
    metric: str,
    triggers: tuple[str, ...],
    occupancy_ids: tuple[int, ...],
    queue_ids: tuple[int, ...],
) -> None:
    """The chosen triggers, counters and queues belong to the location."""
    known = location_store.load_triggers(conn, location_id)
    for trigger in triggers:
        if trigger not in known:
            raise ServiceError(f"--triggers: location {location_id} has no trigger {trigger!r}")
        if metric == "dwell" and known[trigger].type != "Zone":
            raise ServiceError(f"--triggers: dwell needs Zone triggers; {trigger!r} is not")
    counters = {c.id for c in occupancy_store.list_counters(conn, [location_id])}
    for counter in occupancy_ids:
        if counter not in counters:
            raise ServiceError(f"--occupancy: location {location_id} has no counter {counter}")
    queues = {q.id for q in occupancy_store.list_queues(conn, [location_id])}
    for queue in queue_ids:
        if queue not in queues:
            raise ServiceError(f"--queue: location {location_id} has no queue {queue}")


def list_feeds(db: Database, location_id: int | None = None) -> list[FeedRow]:
    with db.read() as conn:
        return store.list_feeds(conn, location_id)


def revoke_feed(db: Database, token: str) -> None:
    with db.write() as conn:
        if not store.revoke_feed(conn, now_ms(), token_hash=hash_token(token)):
            raise NotFoundError(f"no active feed with token {token!r}: see `footfall feeds list`")


def revoke_feed_by_id(db: Database, feed_id: int) -> None:
    with db.write() as conn:
        if not store.revoke_feed(conn, now_ms(), feed_id=feed_id):
            raise NotFoundError(f"no active feed {feed_id}")
