"""What the ingest use cases take and give back: plain values, no database types.

The HTTP layer sees only these (never a store row): the location an ingest token opens
(`IngestLocation`), a batch at each of its steps (`DecodedBatch`, `CheckedBatch`), the
answers, and the two exceptions that steer a request (`Rejected`, `ConfigChanged`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from footfall.domain.agent_config import ConfigProblem
from footfall.domain.ingest import BatchSummary, EventIn, EventRow, Problem

__all__ = [
    "BatchResult",
    "CheckedBatch",
    "ConfigChanged",
    "ConfigResult",
    "DecodedBatch",
    "HeartbeatResult",
    "IngestLocation",
    "Located",
    "Rejected",
]


class Located(Protocol):
    """Anything naming a location and the config version it was read at (a location row
    or an `IngestLocation`)."""

    @property
    def id(self) -> int: ...
    @property
    def config_version(self) -> int: ...


@dataclass(frozen=True)
class IngestLocation:
    """The location an ingest token opens, as authenticated (a hint: the write re-reads
    the config version under the location's lock)."""

    id: int
    config_version: int
    hash: str  # the location's opaque public id (read API `hash`)


@dataclass(frozen=True)
class BatchResult:
    accepted: int
    duplicates: int
    # (event_type, count) of the events newly stored, for the metrics
    stored_by_type: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class HeartbeatResult:
    accepted: int


@dataclass(frozen=True)
class ConfigResult:
    location_id: int
    timezone: str
    channels: int
    triggers: int


@dataclass(frozen=True)
class DecodedBatch:
    location_id: int
    events: list[EventIn | None]
    problems: list[Problem]


@dataclass(frozen=True)
class CheckedBatch:
    location_id: int
    config_version: int
    rows: list[EventRow]
    # Of exactly `rows`, when the check learnt it (a clean batch): the writer's rollups.
    summary: BatchSummary | None = None


class Rejected(Exception):
    """A request the API answers with a 4xx: `status`, a message, and the problems."""

    def __init__(
        self,
        status: int,
        message: str,
        problems: list[Problem] | list[ConfigProblem] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


class ConfigChanged(Exception):
    """The location's config changed between validation and the write lock."""

    def __init__(self, version: int) -> None:
        super().__init__(f"config is now version {version}")
        self.version = version
