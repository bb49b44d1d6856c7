"""Broker URLs and topic prefixes, checked before anything connects.

`mqtt://[user[:password]@]host[:port]` (port 1883) or `mqtts://...` (TLS with the system's
certificate authorities, port 8883). User and password are percent-decoded, so any
character can be given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["BrokerURL", "BrokerURLError", "parse_broker_url", "topic_prefix_problem"]


class BrokerURLError(ValueError):
    """The broker URL is not one Footfall can use."""


@dataclass(frozen=True)
class BrokerURL:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:  # never shows the password (logs, errors)
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_broker_url(url: str) -> BrokerURL:
    expected = "expected mqtt://[user:password@]host[:port] or mqtts://..."
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BrokerURLError(f"{_redacted(url)!r}: {exc}; {expected}") from None
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerURLError(f"{_redacted(url)!r}: {expected}")
    if parts.path not in ("", "/") or parts.query:
        raise BrokerURLError(f"{_redacted(url)!r}: a broker URL has no path or query; {expected}")
    tls = parts.scheme == "mqtts"
    return BrokerURL(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def topic_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot start a topic name, or None when it can."""
    if not prefix:
        return "expected a non-empty topic prefix"
    if any(c in prefix for c in "+#\0"):
        return "a topic prefix cannot contain the wildcards + or # (or NUL)"
    if prefix.startswith("/") or prefix.endswith("/"):
        return "a topic prefix neither starts nor ends with /"
    return None
