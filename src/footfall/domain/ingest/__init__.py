"""Validation of what an edge agent sends (docs/api.md, The ingest API), as pure functions.

`decode_events` turns a request body into `EventIn` values or a list of every problem
(index, field, message; at most `MAX_PROBLEMS`). `check_events` then applies the rules
that need the location's triggers and the clock, and yields the rows to store.

Invariant: nothing here touches the database, and a batch yields rows to store only when
it has no problem at all; every problem names its event's index and field, and what was
expected. The rooms: `batch` (the values and limits), `decode` (the body's shape),
`attributes` (the rules on an event's trigger and vocabulary), `check` (the whole batch
against the triggers and the clock).
"""

from __future__ import annotations

from footfall.domain.ingest.batch import (
    FUTURE_TOLERANCE_MS,
    INT64_MAX,
    INT64_MIN,
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_PROBLEMS,
    MS_PER_DAY,
    TOO_DEEP,
    BodyError,
    EventIn,
    EventRow,
    Problem,
    TriggerInfo,
)
from footfall.domain.ingest.check import BatchSummary, CheckedRows, check_batch, check_events
from footfall.domain.ingest.decode import decode_events

__all__ = [
    "FUTURE_TOLERANCE_MS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_BATCH_EVENTS",
    "MAX_BODY_BYTES",
    "MAX_PROBLEMS",
    "MS_PER_DAY",
    "TOO_DEEP",
    "BatchSummary",
    "BodyError",
    "CheckedRows",
    "EventIn",
    "EventRow",
    "Problem",
    "TriggerInfo",
    "check_batch",
    "check_events",
    "decode_events",
]
