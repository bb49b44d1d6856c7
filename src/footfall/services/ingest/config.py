"""`PUT /ingest/v1/config`: an agent declares its version, zone, channels and triggers.

Invariants:
- Nothing changes unless the whole declaration is valid and within the location's limits
  (`ConfigLimits`, checked before the declaration is read any further).
- Channels and triggers absent from it become inactive, never deleted at once: buffered
  events for them are still accepted, and they go only when the retention period has
  passed since (`services.undeclared`) or on `footfall locations prune`.
- A zone change recomputes the location's histograms from the oldest raw event kept, at a
  boundary of the new zone, so no two hours of a trigger overlap.
"""

from __future__ import annotations

from collections.abc import Callable

from footfall.domain.agent_config import ConfigBodyError, ConfigIn, ConfigLimits, decode_config
from footfall.domain.histogram import hour_start
from footfall.domain.ingest import MS_PER_DAY
from footfall.domain.times import parse_zone
from footfall.services.ingest.results import ConfigResult, Rejected
from footfall.store import locations as location_store
from footfall.store import zones as zone_store
from footfall.store.db import Database
from footfall.store.locations import ChannelSpec, TriggerSpec

__all__ = ["declare_config"]


def declare_config(
    db: Database,
    location_id: int,
    body: bytes,
    *,
    now: int,
    retention_days: float,
    limits: ConfigLimits,
    mark_seen: Callable[[int], None],
) -> ConfigResult:
    """Apply a declaration, or raise Rejected (400/422) having changed nothing but the
    location's last-seen time."""
    try:
        config, problems = decode_config(body, limits)
    except ConfigBodyError as exc:
        mark_seen(location_id)
        raise Rejected(400, str(exc)) from None
    if config is None:
        mark_seen(location_id)
        raise Rejected(
            422, f"{len(problems)} problem(s) in the config; nothing was changed", problems
        )
    try:
        return _apply(db, location_id, config, now, retention_days, limits)
    except Rejected:
        mark_seen(location_id)
        raise


def _apply(
    db: Database,
    location_id: int,
    config: ConfigIn,
    now: int,
    retention_days: float,
    limits: ConfigLimits,
) -> ConfigResult:
    """The upsert, in one transaction rolled back when what the location then knows
    (undeclared channels and triggers awaiting their purge included) passes a limit."""
    with db.write() as conn:
        before = location_store.get_location(conn, location_id)
        zone, channel_count, trigger_count = location_store.upsert_config(
            conn,
            location_id=location_id,
            version=config.version,
            timezone=config.timezone,
            channel_specs=_specs(config),
            now=now,
        )
        if problems := limits.known_problems(*location_store.known_counts(conn, location_id)):
            raise Rejected(
                422, f"{len(problems)} problem(s) in the config; nothing was changed", problems
            )
        if before is not None and before.timezone != zone:
            oldest = now - int(retention_days * MS_PER_DAY)
            zone_store.restart_for_new_zone(conn, location_id, hour_start(parse_zone(zone), oldest))
    return ConfigResult(location_id, zone, channel_count, trigger_count)


def _specs(config: ConfigIn) -> list[ChannelSpec]:
    """The declaration as the store takes it: a name defaults to the id."""
    return [
        ChannelSpec(
            id=c.id,
            name=c.name if c.name is not None else c.id,
            paid=c.paid,
            triggers=[
                TriggerSpec(t.id, t.name if t.name is not None else t.id, t.type)
                for t in c.triggers
            ],
        )
        for c in config.channels
    ]
