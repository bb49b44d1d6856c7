"""Periodic background jobs inside `footfall serve` (histograms, revisions, audits,
retention).

Each job runs in the thread pool so a slow database call never blocks the event loop; a
failing run is logged and retried at the next interval, never fatal to the server. A job
whose runs are bounded passes says, through `busy`, when a pass left work behind: the
next pass then starts at once (after yielding to the event loop) instead of after
`interval`, so a backlog drains at full speed one committed pass at a time, and a server
shutting down waits for one pass at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

__all__ = ["Job", "run_jobs"]

log = logging.getLogger("footfall.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds between the end of one run and the start of the next
    run: Callable[[], object]
    initial_delay: float = 0.0
    busy: Callable[[object], bool] = lambda _outcome: False


async def _loop(job: Job) -> None:
    await asyncio.sleep(job.initial_delay)
    while True:
        again = False
        try:
            outcome = await run_in_threadpool(job.run)
            log.debug("job %s: %s", job.name, outcome)
            again = job.busy(outcome)
        except Exception:
            log.exception("background job %s failed; retrying in %.0f s", job.name, job.interval)
        await asyncio.sleep(0 if again else job.interval)


def run_jobs(jobs: list[Job]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(_loop(job), name=f"footfall-{job.name}") for job in jobs]
