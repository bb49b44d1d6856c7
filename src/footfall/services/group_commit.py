"""A single writer thread that commits concurrent requests together (SQLite).

SQLite has one writer at a time. Rather than let request threads queue on its lock (and
fight over the GIL while they wait), every ingest batch of this process is handed to one
thread, which drains whatever has queued up and commits it in one transaction: one commit
instead of several, and the event loop keeps validating the next batches meanwhile.

Invariant: a submitted item's future resolves only after the transaction holding it has
committed (its result) or rolled back (the exception) — so nothing is acknowledged before
it is durable. An item the group function rejects on its own (it returns an exception for
it) is not written, and does not affect the others.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["GroupCommitWriter"]

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Stop:
    """Put on the queue by `close()`: the writer finishes what came before, then ends."""


_STOP = _Stop()


class GroupCommitWriter(Generic[Item, Result]):
    def __init__(
        self,
        commit_group: Callable[[Sequence[Item]], Sequence[Result | Exception]],
        *,
        max_group: int = 16,
        name: str = "footfall-writer",
    ) -> None:
        self._commit_group = commit_group
        self._max_group = max_group
        self._name = name
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]] | _Stop] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: Item) -> Future[Result]:
        future: Future[Result] = Future()
        self._ensure_started()
        self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Finish everything submitted so far, then stop the thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if isinstance(first, _Stop):
                return
            group = [first]
            stop = False
            while len(group) < self._max_group:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(more, _Stop):
                    stop = True
                    break
                group.append(more)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[tuple[Item, Future[Result]]]) -> None:
        try:
            outcomes = self._commit_group([item for item, _ in group])
        except BaseException as exc:  # the transaction rolled back: nothing was stored
            for _, future in group:
                future.set_exception(exc)
            return
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
