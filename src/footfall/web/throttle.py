"""Sign-in attempts, limited per client address, with exponential back-off.

Invariant: after `free` failed attempts in a row, a client address must wait before it may
try again — 1 s after the next failure, then 2, 4, 8 … up to `max_wait` — and while it
waits every attempt from it, even with the right token, is refused (429 with Retry-After)
without being checked. Only the failing address waits: no number of failures from other
addresses ever holds back the operator's (a global cap would let anyone lock the operator
out; the operator token's minimum length, not a global budget, is what makes guessing
from many addresses hopeless: docs/security.md). An IPv6 client counts by its /64, the
block one host is usually given. A success clears its address's record; a record is
forgotten after `forget_after` seconds without failure.

State is in memory, per process (`serve --workers N` gives each worker its own budget);
the clock is injected so tests never sleep.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Budget", "LoginThrottle", "address_key"]


@dataclass(frozen=True)
class Budget:
    free: int  # failures allowed before back-off starts
    max_wait: float  # seconds: the back-off never grows beyond this


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


def address_key(address: str) -> str:
    """What the budget is kept for: the address, or an IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class LoginThrottle:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        per_address: Budget = Budget(free=5, max_wait=900.0),
        forget_after: float = 3600.0,
        max_tracked: int = 10_000,
    ) -> None:
        self._clock = clock
        self._budget = per_address
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
        record = self._record(address_key(address), now)
        wait = 0.0 if record is None else record.blocked_until - now
        return max(1, math.ceil(wait)) if wait > 0 else None

    def failed(self, address: str) -> None:
        now = self._clock()
        key = address_key(address)
        if key not in self._records and len(self._records) >= self._max_tracked:
            # Bounded memory under a flood: forget addresses free to try again first, then
            # the ones that failed longest ago.
            for stale in [k for k, r in self._records.items() if r.blocked_until <= now]:
                del self._records[stale]
            while len(self._records) >= self._max_tracked:
                oldest = min(self._records, key=lambda k: self._records[k].last_failure)
                del self._records[oldest]
        record = self._record(key, now) or self._records.setdefault(key, _Record())
        record.failures += 1
        record.last_failure = now
        over = record.failures - self._budget.free
        if over > 0:
            record.blocked_until = now + min(self._budget.max_wait, 2.0 ** min(over - 1, 32))

    def succeeded(self, address: str) -> None:
        self._records.pop(address_key(address), None)
