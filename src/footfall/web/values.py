"""Ids and text from the dashboard's paths, queries and forms, checked by the API's rules.

Invariant: an id is a decimal number from 1 to 2^63-1 (what the database's keys can
hold) and text has no NUL or other control character (PostgreSQL refuses NUL in text);
anything else is refused with a 400 naming the field and what was expected, before it
reaches a service, so no id or form value becomes a 5xx (docs/security.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

__all__ = ["MAX_ID", "ValueRefused", "control_character", "form_id", "parse_id", "whole_number"]

MAX_ID: Final = 2**63 - 1


class ValueRefused(ValueError):
    """A value a route cannot use: a 400 with this message."""


def parse_id(field: str, text: str) -> int:
    stripped = text.strip()
    if not stripped.isascii() or not stripped.isdigit() or len(stripped) > 19:
        raise ValueRefused(f"{field}: {text[:40]!r} is not an id (expected 1 to {MAX_ID})")
    value = int(stripped)
    if not 1 <= value <= MAX_ID:
        raise ValueRefused(f"{field}: {value} is out of range (expected 1 to {MAX_ID})")
    return value


def form_id(form: Mapping[str, str], field: str) -> int:
    return parse_id(field, form.get(field, ""))


def whole_number(field: str, text: str, low: int, high: int) -> int:
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("-") else stripped
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise ValueRefused(f"{field}: {text[:40]!r} is not a whole number ({low} to {high})")
    value = int(stripped)
    if not low <= value <= high:
        raise ValueRefused(f"{field}: {value} is out of range (expected {low} to {high})")
    return value


def control_character(values: Mapping[str, str]) -> str | None:
    """What is wrong with the first value holding a control character, or None."""
    for field, value in values.items():
        for char in value:
            if unicodedata.category(char) == "Cc":
                return f"{field}: contains the control character {char!r}; plain text only"
    return None
