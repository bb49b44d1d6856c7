"""A retry delay that doubles after each failure up to a cap, and starts again from the
first delay after a success: the sender's loop and the broker session share it, so a
server or broker that is down is probed quickly at first, then at most every `cap`
seconds, and a recovered one is retried at once the next time it fails."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    def __init__(self, first: float, cap: float) -> None:
        if not 0 < first <= cap:
            raise ValueError(f"back-off: expected 0 < first <= cap, got {first} and {cap}")
        self.first = first
        self.cap = cap
        self.delay = first  # what the next failure waits

    def failed(self) -> float:
        """The delay to wait after this failure; the next one waits twice as long."""
        wait = self.delay
        self.delay = min(self.delay * 2, self.cap)
        return wait

    def succeeded(self) -> None:
        self.delay = self.first
