"""Verifying a vendor's signed push: HMAC-SHA256 over ``<timestamp>.<raw body>``, hex or Base64, fresh timestamp.

The same algorithm as snowsim's and as the business rule in docs/servicenow-outbound.md §4a computes with
``generateMac`` (which gives Base64). Kompass does not import snowsim: this is its own copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, timestamp: str | None, body: bytes, header: str | None, *, tolerance_s: float = 300, now=None
) -> bool:
    if not (secret and timestamp and header and header.startswith("sha256=")):
        return False
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - stamp) > tolerance_s:
        return False
    digest = hmac.new(
        secret.encode("utf-8"), timestamp.encode("ascii", "replace") + b"." + body, hashlib.sha256
    ).digest()
    given = header.removeprefix("sha256=")
    return hmac.compare_digest(digest.hex(), given) or hmac.compare_digest(base64.b64encode(digest).decode(), given)
