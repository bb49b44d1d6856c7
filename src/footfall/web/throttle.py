"""Sign-in attempts, limited per client address and globally, with exponential back-off.

Invariant: after `free` failed attempts in a row, a client address must wait before it may
try again — 1 s after the next failure, then 2, 4, 8 … up to `max_wait` — and while it
waits every attempt, even with the right token, is refused (429 with Retry-After) without
being checked. The same rule holds for all addresses together with larger budgets, so
guessing from many addresses is slowed down too. A success clears its address's record
(not the global one); a record is forgotten after `forget_after` seconds without failure.

State is in memory, per process (`serve --workers N` gives each worker its own budget);
the clock is injected so tests never sleep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Budget", "LoginThrottle"]

GLOBAL = "*"


@dataclass(frozen=True)
class Budget:
    free: int  # failures allowed before back-off starts
    max_wait: float  # seconds: the back-off never grows beyond this


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        per_address: Budget = Budget(free=5, max_wait=900.0),
        everyone: Budget = Budget(free=50, max_wait=60.0),
        forget_after: float = 3600.0,
        max_tracked: int = 10_000,
    ) -> None:
        self._clock = clock
        self._budgets = {"address": per_address, GLOBAL: everyone}
        self._forget_after = forget_after
        self._max_tracked = max_tracked
        self._records: dict[str, _Record] = {}

    def _record(self, key: str, now: float) -> _Record | None:
        found = self._records.get(key)
        if found is not None and now - found.last_failure > self._forget_after:
            del self._records[key]
            return None
        return found

    def retry_after(self, address: str) -> int | None:
        """Whole seconds this address must still wait (at least 1), or None: may try."""
        now = self._clock()
        waits = [
            record.blocked_until - now
            for key in (address, GLOBAL)
            if (record := self._record(key, now)) is not None
        ]
        wait = max(waits, default=0.0)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, address: str) -> None:
        now = self._clock()
        if len(self._records) >= self._max_tracked:  # bounded memory under a flood
            for key in [k for k, r in self._records.items() if r.blocked_until <= now]:
                if key != GLOBAL:
                    del self._records[key]
            if len(self._records) >= self._max_tracked:  # all blocked: the global record stays
                self._records = {k: r for k, r in self._records.items() if k == GLOBAL}
        for key in (address, GLOBAL):
            budget = self._budgets[GLOBAL if key == GLOBAL else "address"]
            record = self._record(key, now) or self._records.setdefault(key, _Record())
            record.failures += 1
            record.last_failure = now
            over = record.failures - budget.free
            if over > 0:
                record.blocked_until = now + min(budget.max_wait, 2.0 ** min(over - 1, 32))

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)
