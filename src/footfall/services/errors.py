"""Errors a service raises for a caller to report; each says what to do next."""

from __future__ import annotations

__all__ = ["NotFoundError", "ServiceError"]


class ServiceError(Exception):
    """A request that cannot be carried out as asked (bad input, a conflict)."""


class NotFoundError(ServiceError):
    """The thing asked for does not exist (or is not the caller's)."""
