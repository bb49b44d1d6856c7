"""PostgreSQL: `events` partitioned by week of `event_time` (see `store/partitions.py`).

A partitioned table's unique constraints must include the partition key, so:
- the primary key becomes (location_id, id, event_time): `id` still comes from the
  `event_ids` sequence and is unique on its own;
- `(location_id, record_id)` can no longer be a unique constraint (two partitions could
  each hold one): it becomes a plain index, and ingest finds duplicates with it under the
  location's row lock, which every writer of events holds (`store/events.py`).

Existing rows move into one partition per UTC week that holds any (weeks without events
get no partition), in the migration's transaction: on a large table this upgrade takes about as
long as copying it. SQLite keeps its table unchanged.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from footfall.store.partitions import MS_PER_DAY, MS_PER_WEEK, create_week, week_of

revision = "0010"
down_revision = "0009"

_COLUMNS = (
    "location_id, id, record_id, event_type, trigger_id, channel_id, object_id, origin, "
    "suborigin, age_range, gender, snapshot_id, event_time"
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE events RENAME TO events_unpartitioned")
    op.execute("ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_pkey TO events_old_pkey")
    op.execute("ALTER TABLE events_unpartitioned DROP CONSTRAINT uq_events_record")
    op.execute("DROP INDEX ix_events_time")
    op.execute("DROP INDEX IF EXISTS ix_events_trigger_time")
    op.execute(
        """
        CREATE TABLE events (
            location_id INTEGER NOT NULL,
            id BIGINT NOT NULL DEFAULT nextval('event_ids'),
            record_id BIGINT NOT NULL,
            event_type VARCHAR(24) NOT NULL,
            trigger_id VARCHAR(64) NOT NULL,
            channel_id VARCHAR(64) NOT NULL,
            object_id BIGINT NOT NULL,
            origin VARCHAR(16) NOT NULL,
            suborigin VARCHAR(16) NOT NULL,
            age_range VARCHAR(16) NOT NULL,
            gender VARCHAR(8) NOT NULL,
            snapshot_id BIGINT NOT NULL,
            event_time BIGINT NOT NULL,
            CONSTRAINT events_pkey PRIMARY KEY (location_id, id, event_time)
        ) PARTITION BY RANGE (event_time)
        """
    )
    op.create_index("ix_events_time", "events", ["location_id", "event_time"])
    op.create_index("ix_events_trigger_time", "events", ["location_id", "trigger_id", "event_time"])
    op.create_index("ix_events_record", "events", ["location_id", "record_id"])
    # One instant of each week holding events (weeks counted from a Monday, floored also
    # before 1970); the week itself is reckoned in Python, exactly as ingest does.
    instants = bind.execute(
        sa.text(
            "SELECT min(event_time) FROM events_unpartitioned "
            f"GROUP BY floor((event_time - {4 * MS_PER_DAY})::numeric / {MS_PER_WEEK})"
        )
    ).scalars()
    for week in sorted({week_of(int(t)) for t in instants}):
        create_week(bind, week)
    op.execute(f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM events_unpartitioned")
    op.execute("DROP TABLE events_unpartitioned")
