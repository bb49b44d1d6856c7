"""Dashboard sessions and CSRF protection, derived from the operator token.

- Signing in with FOOTFALL_ADMIN_TOKEN sets a session cookie `<issued>.<mac>` (HttpOnly,
  SameSite=Strict) where mac = HMAC-SHA256(token, "session:<issued>"): nothing is stored on
  the server, and changing the token ends every session. Sessions last 12 hours.
- Every form carries `csrf` = HMAC-SHA256(token, "csrf:<session cookie>"); a POST whose
  field does not match is refused. All comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

__all__ = [
    "COOKIE",
    "SESSION_SECONDS",
    "csrf_token",
    "new_session",
    "session_valid",
    "token_matches",
]

COOKIE = "footfall_session"
SESSION_SECONDS = 12 * 3600


def _mac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def token_matches(admin_token: str, offered: str) -> bool:
    return hmac.compare_digest(admin_token.encode(), offered.strip().encode())


def new_session(admin_token: str, now: float | None = None) -> str:
    issued = str(int(now if now is not None else time.time()))
    return f"{issued}.{_mac(admin_token, 'session:' + issued)}"


def session_valid(admin_token: str, cookie: str | None, now: float | None = None) -> bool:
    if not cookie or "." not in cookie:
        return False
    issued, mac = cookie.split(".", 1)
    if not issued.isdigit():
        return False
    fresh = (now if now is not None else time.time()) - int(issued) < SESSION_SECONDS
    return fresh and hmac.compare_digest(mac, _mac(admin_token, "session:" + issued))


def csrf_token(admin_token: str, cookie: str) -> str:
    return _mac(admin_token, "csrf:" + cookie)
