"""Feed tokens stay out of the access log.

A feed URL is its only credential (`/feed/report/<token>`), and uvicorn's access log
prints every request's path. This filter on the `uvicorn.access` logger keeps the first
8 characters of a token (what `footfall feeds list` shows, enough to tell feeds apart)
and drops the rest before any handler sees the record.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["RedactFeedTokens", "install", "redact"]

_FEED_PATH: Final = re.compile(r"(/feed/report/)([^/?#\s\"]+)")


def redact(text: str) -> str:
    return _FEED_PATH.sub(lambda m: f"{m.group(1)}{m.group(2)[:8]}...", text)


class RedactFeedTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Idempotent: one filter on uvicorn's access logger, whoever configures logging."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactFeedTokens) for f in logger.filters):
        logger.addFilter(RedactFeedTokens())
