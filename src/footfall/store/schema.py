"""The schema as SQLAlchemy Core tables, used by every query.

The migrations under `migrations/versions` create exactly these tables; keep both in step
(tests compare a migrated database with this metadata).

Every table follows Citus's rules for distribution by location (`store.distribution`
classifies them; tests/integration/test_citus_rules.py checks the migrated catalog): a
tenant table carries `location_id`, and its primary key and every unique constraint
include it; the small global tables (accounts, API keys, the token lookup) are reference
tables, never written per request and never pointing at a tenant table.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "accounts",
    "api_key_audit",
    "api_key_usage",
    "api_keys",
    "channels",
    "coverage_quarters",
    "dashboard_sessions",
    "events",
    "feeds",
    "histograms",
    "hourly_rollups",
    "id_counters",
    "locations",
    "metadata",
    "occupancy_audit",
    "occupancy_counters",
    "quarter_rollups",
    "queues",
    "revisions",
    "server_key_check",
    "token_lookup",
    "triggers",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_metric_state",
    "zone_progress",
    "zone_quarters",
]

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("public_key", String(64), nullable=False, unique=True),
    # The HMAC secret, sealed with the server key (domain.sealing): the server recomputes
    # every signature, so it must be recoverable, but never from the database alone.
    Column("secret", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

# Operators' actions on a key (`nonce_reset`: its last nonce cleared), with who and when;
# the nonce it held before. Written only by an operator, so a Citus reference table.
api_key_audit = Table(
    "api_key_audit",
    metadata,
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True, autoincrement=False),
    Column("at", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),
    Column("actor", Text, nullable=False),
    Column("nonce_before", BigInteger, nullable=False),
)

# Each key's nonce and throttle state, in the database so every server process shares
# them, and apart from `api_keys` because they change on every read-API request: a
# reference table (copied to every node) must not be written per request. One row per
# key, written with the key; on Citus distributed by `key_id`.
api_key_usage = Table(
    "api_key_usage",
    metadata,
    Column("key_id", Integer, ForeignKey("api_keys.id"), primary_key=True, autoincrement=False),
    Column("last_nonce", BigInteger, nullable=False, server_default="0"),
    Column("next_request_us", BigInteger, nullable=False, server_default="0"),
)

# Tokens that arrive alone (an ingest token, a feed URL) say nothing of their location,
# and a distributed table cannot be searched by such a value without asking every shard.
# This small reference table, keyed by the token's sha256 hex, names the location (and
# the feed) the token opens; it is written only when a token is issued. `kind` is
# 'ingest' or 'feed', so one kind of token never opens the other's door. No foreign key to
# locations or feeds: Citus allows none from a reference table to a distributed one.
token_lookup = Table(
    "token_lookup",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("feed_id", Integer, nullable=True),
)

# Dashboard sign-ins: one row per session, keyed by the sha256 of the random id the
# cookie carries (the table alone opens no session). `token_mac` binds the session to the
# operator token it was opened with, so a new FOOTFALL_ADMIN_TOKEN ends every session.
# Operator-level and written only at sign-in and sign-out: a reference table on Citus.
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_mac", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

# One row: a fixed label sealed under the server key (`secret`, like every sealed column,
# so a rotation or a copy re-seals it with the others). A process that cannot open it
# holds the wrong key and refuses to start. A reference table on Citus.
server_key_check = Table(
    "server_key_check",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", Text, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("timezone", String(64), nullable=False),
    # The Location's opaque `hash` (docs/api.md, The read API): 32 bytes from a CSPRNG, so unique
    # without a
    # constraint, and nothing looks a location up by it. A unique constraint on it alone
    # would break Citus's rule (unique only with the distribution column, `id`).
    Column("hash", String(64), nullable=False),
    # The ingest token (shown once, never stored) is found by its hash in `token_lookup`.
    Column("version", Text, nullable=False, server_default=""),
    # Bumped by every config upsert, so ingest can validate outside its write lock
    # and detect a concurrent change of channels or triggers.
    Column("config_version", Integer, nullable=False, server_default="0"),
    # Bumped whenever the location's webhook endpoints change, so ingest can keep them
    # cached and still see a change in the very next batch (read under the row lock).
    Column("webhooks_version", Integer, nullable=False, server_default="0"),
    Column("last_seen_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

channels = Table(
    "channels",
    metadata,
    Column("location_id", Integer, ForeignKey("locations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("paid", Integer, nullable=False),
    Column("active", Integer, nullable=False),
    # When the agent stopped declaring it (ms; NULL while declared): purged with its
    # derived data once the retention period has passed since (services.undeclared).
    Column("inactive_since", BigInteger, nullable=True),
)

triggers = Table(
    "triggers",
    metadata,
    Column("location_id", Integer, ForeignKey("locations.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("channel_id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("type", String(8), nullable=False),
    Column("active", Integer, nullable=False),
    Column("inactive_since", BigInteger, nullable=True),  # as for channels
)

# On PostgreSQL `events` is partitioned by day of `event_time` (store/partitions.py): its
# primary key must then include event_time, and (location_id, record_id) is a plain index
# (ix_events_record) that ingest probes under the location's row lock; SQLite keeps one
# table with the unique constraint. `info` records the PostgreSQL key for the schema test.
events = Table(
    "events",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    # Assigned at storage: from `event_ids` on PostgreSQL, from `id_counters` on SQLite.
    # Ingest takes the location's row lock before it gets ids, so within one location
    # ids grow in commit order (the after_id paging rule).
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", BigInteger, nullable=False),
    Column("event_type", String(24), nullable=False),
    Column("trigger_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("object_id", BigInteger, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("suborigin", String(16), nullable=False),
    Column("age_range", String(16), nullable=False),
    Column("gender", String(8), nullable=False),
    Column("snapshot_id", BigInteger, nullable=False),
    Column("event_time", BigInteger, nullable=False),
    UniqueConstraint("location_id", "record_id", name="uq_events_record"),
    Index("ix_events_time", "location_id", "event_time"),
    Index("ix_events_trigger_time", "location_id", "trigger_id", "event_time"),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (event_time)",
    info={"postgresql_primary_key": ("location_id", "id", "event_time")},
)

hourly_rollups = Table(
    "hourly_rollups",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),  # UTC hour start, ms
    Column("channel_id", String(64), primary_key=True),
    Column("trigger_id", String(64), primary_key=True),
    Column("event_type", String(24), primary_key=True),
    Column("origin", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# One row per Zone trigger and completed local hour (docs/api.md, Histograms). `hour_start` is the
# UTC
# instant (ms) where the local hour begins; the data columns hold JSON arrays. A
# recomputation updates the row in place, so its `id` never changes.
histograms = Table(
    "histograms",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("trigger_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("hour_start", BigInteger, nullable=False),
    # Where the local hour ends (UTC ms): the instant `open_stays` was taken at.
    Column("hour_end", BigInteger, nullable=False, server_default="0"),
    Column("counting_data", Text, nullable=False),
    Column("lifetime_data", Text, nullable=False),
    Column("computed_at", BigInteger, nullable=False),
    # JSON {object_id: stay start ms}: the stays still open at the hour's end, so a later
    # recomputation can start from this hour instead of replaying the whole history.
    Column("open_stays", Text, nullable=False, server_default="{}"),
    UniqueConstraint("location_id", "trigger_id", "hour_start", name="uq_histograms_hour"),
    Index("ix_histograms_time", "location_id", "hour_start"),
    sqlite_with_rowid=False,
)

# Per Zone trigger: what the histogram job has computed and what ingest has touched since.
# Ingest lowers `dirty_from` to the earliest join/leave it stored and bumps `change_seq`, in
# its own transaction; the job recomputes from there and clears `dirty_from` only if
# `change_seq` did not move meanwhile. `claimed_by`/`claimed_until` is the lease of the
# one job run (in any process) working on the trigger.
zone_progress = Table(
    "zone_progress",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("trigger_id", String(64), primary_key=True),
    Column("first_event_ms", BigInteger, nullable=False),
    Column("dirty_from", BigInteger, nullable=True),
    Column("change_seq", BigInteger, nullable=False),
    Column("computed_until", BigInteger, nullable=True),
    Column("claimed_by", String(32), nullable=True),
    Column("claimed_until", BigInteger, nullable=True),
)

# Tables keyed by (location_id, id) whose ids users see and give back (CLI, read API,
# feeds): the ids are drawn with `store.ids.new_ids` (a sequence on PostgreSQL, an
# `id_counters` row on SQLite, which cannot autoincrement a composite key), so they stay
# unique across locations and a command can still name a row by its id alone.

# Occupancy counters (docs/api.md, Occupancy counters): either enter/exit line triggers or one zone
# trigger.
occupancy_counters = Table(
    "occupancy_counters",
    metadata,
    Column("id", Integer, autoincrement=False, nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("enter_triggers", Text, nullable=False),  # comma-separated trigger ids
    Column("exit_triggers", Text, nullable=False),
    Column("zone_trigger", String(64), nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("reset_minute", Integer, nullable=False),  # local minutes after midnight
    Column("created_at", BigInteger, nullable=False),
    # A line counter with no crossing for this long goes back to 0 (a closed shop).
    Column("max_idle_ms", BigInteger, nullable=True),
    PrimaryKeyConstraint("location_id", "id"),
)

# What was done to an occupancy counter, by whom and when: operator calibrations
# (`kind` calibration), max-idle changes (max_idle) and the idle resets the counter went
# through (idle_reset, written by the audit job; `withdrawn_at` set when events that
# arrived later show the counter was not idle after all).
occupancy_audit = Table(
    "occupancy_audit",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("counter_id", Integer, primary_key=True, autoincrement=False),
    Column("at", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),
    Column("actor", Text, nullable=False),
    Column("value_before", Integer, nullable=True),
    Column("value_after", Integer, nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("withdrawn_at", BigInteger, nullable=True),
    sqlite_with_rowid=False,
)

# Queues (docs/api.md, Queues) on one zone trigger.
queues = Table(
    "queues",
    metadata,
    Column("id", Integer, autoincrement=False, nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("zone_trigger", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("location_id", "id"),
)

# Webhook endpoints (docs/api.md, Webhooks): a whole location, or one channel of it, for one kind.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, autoincrement=False, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("channel_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False),  # events | occupancy | queue
    Column("url", Text, nullable=False),
    # whsec_ + base64, the signing key, sealed with the server key (domain.sealing).
    Column("secret", Text, nullable=False),
    Column("enabled", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("location_id", "id"),
)

# The transactional outbox: a delivery is written in the transaction that causes it and
# stays until delivered or failed. `next_attempt_at` doubles as the lease of a dispatcher
# attempting it: claiming moves it past the attempt's timeout, so no second dispatcher
# takes it meanwhile, and a dead one's claim simply expires.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("endpoint_id", Integer, nullable=False),
    # Unique per location, as Citus can check it (one shard); across locations it is
    # unique by construction: "msg_" and 16 bytes from a CSPRNG (domain.webhooks).
    Column("webhook_id", String(40), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    # Attempts made before the last replay: the retry schedule restarts from there.
    Column("retry_base", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger, nullable=False),
    # The attempt holding the lease: only it may record its outcome.
    Column("claim_token", String(32), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    UniqueConstraint("location_id", "webhook_id", name="uq_deliveries_webhook"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_endpoint", "endpoint_id", "status", "next_attempt_at"),
    sqlite_with_rowid=False,
)

# Every attempt, for `footfall webhooks deliveries` and the dashboard.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("delivery_id", BigInteger, primary_key=True, autoincrement=False),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("status", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text, nullable=True),
    sqlite_with_rowid=False,
)

# The last value an occupancy/queue endpoint was sent for each metric, and when: changes
# are coalesced to one delivery per second per metric, always with the latest value.
webhook_metric_state = Table(
    "webhook_metric_state",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),  # the endpoint's
    Column("endpoint_id", Integer, primary_key=True, autoincrement=False),
    Column("metric_id", Integer, primary_key=True, autoincrement=False),
    Column("value", Text, nullable=False),
    Column("sent_at", BigInteger, nullable=False),
)

# Event counts per 15 minutes (UTC quarter-hours line up with every local hour and day,
# whatever the zone's offset): report feeds sum these, never raw events.
quarter_rollups = Table(
    "quarter_rollups",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("quarter", BigInteger, primary_key=True, autoincrement=False),  # start, ms
    Column("channel_id", String(64), primary_key=True),
    Column("trigger_id", String(64), primary_key=True),
    Column("event_type", String(24), primary_key=True),
    Column("origin", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Per Zone trigger and completed quarter-hour, from the histogram job: peak occupancy,
# occupancy integrated over time (object-ms), and the completed stays that ended in it.
zone_quarters = Table(
    "zone_quarters",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("trigger_id", String(64), primary_key=True),
    Column("quarter", BigInteger, primary_key=True, autoincrement=False),
    Column("peak", Integer, nullable=False),
    Column("area_ms", BigInteger, nullable=False),
    Column("stays", Integer, nullable=False),
    Column("stay_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Report feeds (docs/api.md, Report feeds): a saved report behind an unguessable token.
feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, autoincrement=False, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    # The token is shown once at creation and found by its hash in `token_lookup`; its
    # first 8 characters stay here, so `feeds list` can tell feeds apart.
    Column("token_prefix", String(8), nullable=False, server_default=""),
    Column("name", Text, nullable=False),
    Column("metric", String(16), nullable=False),
    Column("triggers", Text, nullable=False),  # comma-separated ids ('' = not chosen)
    Column("occupancy_ids", Text, nullable=False),
    Column("queue_ids", Text, nullable=False),
    Column("event_types", Text, nullable=False),
    Column("origins", Text, nullable=False),
    Column("period", String(16), nullable=True),  # a named period, or NULL for since/until
    Column("since_ms", BigInteger, nullable=True),
    Column("until_ms", BigInteger, nullable=True),
    Column("granularity", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    # 1: each series gets a coverage column and uncovered buckets are null, not 0.
    Column("coverage", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("location_id", "id"),
)

# Per channel and UTC quarter-hour: the heartbeat marks in it (`domain.coverage` text)
# and the seconds of the quarter the channel was covered, derived from these marks and
# those of the quarter before (a mark covers up to 90 s after it).
coverage_quarters = Table(
    "coverage_quarters",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("channel_id", String(64), primary_key=True),
    Column("quarter", BigInteger, primary_key=True, autoincrement=False),  # start, ms
    Column("covered_s", Integer, nullable=False),
    Column("marks", Text, nullable=False, server_default=""),
    sqlite_with_rowid=False,
)

# Hours revised after they were complete: per trigger, `kind` (totals: events arrived
# for an hour more than a minute after it ended; histogram: a stored histogram changed)
# and local hour [hour, hour_end). `pending_since` is set while a `revisions` webhook
# still has to announce the revision (coalesced: one delivery per burst per hour).
revisions = Table(
    "revisions",
    metadata,
    Column("location_id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), primary_key=True),
    Column("trigger_id", String(64), primary_key=True),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
    Column("hour_end", BigInteger, nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("revised_at", BigInteger, nullable=False),
    Column("pending_since", BigInteger, nullable=True),
    Column("notified_at", BigInteger, nullable=True),
    Column("retry_at", BigInteger, nullable=True),
    Index("ix_revisions_pending", "pending_since"),
    Index("ix_revisions_revised", "location_id", "kind", "revised_at"),
    sqlite_with_rowid=False,
)

# SQLite has no sequences; this one-row-per-name table stands in for them (PostgreSQL
# never reads or writes it).
id_counters = Table(
    "id_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
