"""The customer's key, read from the policy's auth header (default ``Authorization: Bearer sk_live_…``)."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_AUTH_HEADER = "Authorization"
DEFAULT_AUTH_SCHEME = "Bearer"


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by name, case-insensitively (API Gateway keeps the client's spelling)."""
    if not headers:
        return None
    if name in headers:
        return headers[name]
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def extract_key(
    headers: Mapping[str, str] | None,
    auth_header: str = DEFAULT_AUTH_HEADER,
    auth_scheme: str | None = DEFAULT_AUTH_SCHEME,
) -> str:
    """The key, or ``""`` when it is missing or in another scheme (the server answers 401 ``KEY_MISSING``
    for a covered route). ``auth_scheme`` empty or None: the whole header value is the key."""
    raw = (header_value(headers, auth_header) or "").strip()
    if not auth_scheme:
        return raw
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != auth_scheme.lower():
        return ""
    return token.strip()
