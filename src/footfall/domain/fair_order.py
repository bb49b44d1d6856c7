"""Fair order of background work across locations (tenants).

Invariant of `interleave`: every queue's first item comes before any queue's second item,
every second item before any third, and so on; within a round the queues keep the order
they were given in. So with L queues, a location's next item is at most L - 1 items away
from the front of what is left: a location with a backlog of thousands delays another by
at most one item per round, never by its whole backlog.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

__all__ = ["interleave"]

T = TypeVar("T")


def interleave(queues: Sequence[Iterable[T]]) -> Iterator[T]:
    """Round-robin over `queues` (in the order given, each in its own order), lazily."""
    active: list[Iterator[T]] = [iter(queue) for queue in queues]
    while active:
        still: list[Iterator[T]] = []
        for queue in active:
            for item in queue:  # at most one item of each queue per round
                yield item
                still.append(queue)
                break
        active = still
