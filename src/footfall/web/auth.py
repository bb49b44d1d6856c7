"""The operator token check and CSRF tokens (sessions themselves: services.dashboard_sessions).

- The sign-in form's token is compared with FOOTFALL_ADMIN_TOKEN in constant time.
- Every form carries `csrf` = HMAC-SHA256(token, "csrf:<session cookie>"); a POST whose
  field does not match is refused. The cookie is a random session id, so the CSRF token
  is per session and ends with it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

__all__ = ["COOKIE", "csrf_token", "token_matches"]

COOKIE: Final = "footfall_session"


def token_matches(admin_token: str, offered: str) -> bool:
    return hmac.compare_digest(admin_token.encode(), offered.strip().encode())


def csrf_token(admin_token: str, cookie: str) -> str:
    return hmac.new(admin_token.encode(), ("csrf:" + cookie).encode(), hashlib.sha256).hexdigest()
