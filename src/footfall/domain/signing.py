"""Request signing of the read API (docs/api.md, The read API), shared by the server and the SDK.

The signature is the lowercase hex HMAC-SHA512, keyed with the API key's secret, of the
request URI exactly as sent: path, `?`, and the raw (still percent-encoded) query string.
The server compares in constant time, so response timing leaks nothing about how much of
a forged signature was right.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign", "signature_matches"]


def sign(secret: str, uri: str) -> str:
    return hmac.new(secret.encode(), uri.encode(), hashlib.sha512).hexdigest()


def signature_matches(secret: str, uri: str, signature: str) -> bool:
    expected = sign(secret, uri)
    # Both sides are ASCII-encoded so compare_digest works on bytes of any content.
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())
