"""Logging: plain text (the default) or one JSON object per line (`FOOTFALL_LOG_FORMAT=json`).

A JSON line always carries `time` (UTC, ISO 8601 with milliseconds), `level`, `logger` and
`message`; while a request is served, also its `request_id` and, once known, the
`location_id` it acts for (an ingest token names one location) or the `key_id` of the read
API key that signed it. Extra fields given with
`extra={...}` follow; a traceback goes in `exc_info` as one string, so a line never breaks.

The request context is one mutable object per request in a context variable: the HTTP
middleware creates it, the ingest authentication fills in the location, and every log call
made for that request, in the event loop or in a worker thread, sees the same object.
"""

from __future__ import annotations

import json
import logging
import logging.config
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "JsonFormatter",
    "RequestContext",
    "bind_key",
    "bind_location",
    "configure",
    "dict_config",
    "end_request",
    "json_line",
    "start_request",
]


@dataclass
class RequestContext:
    request_id: str
    location_id: int | None = None
    key_id: int | None = None


_REQUEST: ContextVar[RequestContext | None] = ContextVar("footfall_request", default=None)


def start_request(request_id: str) -> Token[RequestContext | None]:
    """A new request context; pass the token to `end_request` when the request is done."""
    return _REQUEST.set(RequestContext(request_id))


def end_request(token: Token[RequestContext | None]) -> None:
    _REQUEST.reset(token)


def bind_location(location_id: int) -> None:
    """The request being served acts for this location (shown in its log lines)."""
    context = _REQUEST.get()
    if context is not None:
        context.location_id = location_id


def bind_key(key_id: int) -> None:
    """The request being served was signed with this read-API key (shown in its log lines)."""
    context = _REQUEST.get()
    if context is not None:
        context.key_id = key_id


# Attributes every LogRecord has: anything else on a record came from `extra=` (except
# uvicorn's terminal-coloured copy of the message).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _REQUEST.get()
        if context is not None:
            line["request_id"] = context.request_id
            if context.location_id is not None:
                line["location_id"] = context.location_id
            if context.key_id is not None:
                line["key_id"] = context.key_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def json_line(logger: str, level: int, message: str) -> str:
    """One log line in the JSON format, for what is written before logging is set up."""
    record = logging.LogRecord(logger, level, "", 0, message, None, None)
    return JsonFormatter().format(record)


def dict_config(*, access_log: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` that writes Footfall's and uvicorn's logs as JSON.

    uvicorn's own access log is replaced by Footfall's (`footfall.access`, one line per
    request with its id, method, route, status and duration), which knows the request.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "footfall.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "footfall": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "footfall.access": {"level": "INFO" if access_log else "WARNING"},
            "uvicorn": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"level": "WARNING"},
        },
    }


def configure(log_format: str) -> None:
    """Set up logging for a command that runs outside uvicorn (the Frigate bridge)."""
    if log_format == "json":
        logging.config.dictConfig(dict_config())
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
