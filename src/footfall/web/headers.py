"""Security headers on every response (the dashboard's, the APIs', the feeds').

Invariant: every response says `X-Content-Type-Options: nosniff`, `Referrer-Policy:
no-referrer` (feed URLs carry their token: it must never leak in a Referer) and may not be
framed (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for old browsers). Every
response but the interactive API docs also gets a Content-Security-Policy that allows
only Footfall's own static files: no inline script, style or event handler, no other
origin, no plugins, forms posting only back to Footfall. The docs pages (/docs, /redoc)
set their own policy (`api.docs_ui`: this server's scripts only, inline styles allowed);
other paths under them keep one that only forbids framing.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SecurityHeaders"]

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS_CSP: Final = "frame-ancestors 'none'"
_DOCS: Final = ("/docs", "/redoc")
_COMMON: Final = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering: streaming answers stay streaming)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(_DOCS)
        extra = [*_COMMON, (b"content-security-policy", (_DOCS_CSP if docs else CSP).encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in extra if name not in names),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
