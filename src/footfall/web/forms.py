"""Dashboard form bodies, read within a size cap and decoded strictly.

Invariant: a form body is read only up to its cap (a larger declared or streamed body is
refused with 413 before the rest is read), must be UTF-8 and `application/x-www-form-
urlencoded` with at most `MAX_FIELDS` fields (else 400); nothing malformed ever reaches a
handler or becomes a 500.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["FORM_LIMIT", "LOGIN_LIMIT", "FormRefused", "read_form"]

LOGIN_LIMIT: Final = 4 * 1024  # a token and where to go next
FORM_LIMIT: Final = 16 * 1024  # the largest dashboard form (a new feed) is far smaller
MAX_FIELDS: Final = 32


class FormRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _too_large(limit: int) -> FormRefused:
    return FormRefused(413, f"The form is larger than {limit // 1024} KiB: nothing was done.")


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """The form's fields (the last value of a repeated one); raises FormRefused."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise FormRefused(400, "The request's Content-Length is not a number.")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    try:
        pairs = parse_qsl(
            bytes(body).decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except UnicodeDecodeError:
        raise FormRefused(400, "The form is not valid UTF-8: nothing was done.") from None
    except ValueError:
        raise FormRefused(400, f"The form has more than {MAX_FIELDS} fields.") from None
    return dict(pairs)
