"""Customer portal sessions: a short-lived link that lets one customer manage its own billing.

An operator creates one (``POST /v1/portal-sessions``) and hands the URL to its customer. The token is
32 random bytes after ``portal_``, put in the URL's fragment (``#session=…``: browsers never send a
fragment to a server, so it stays out of access logs), shown once and stored only as its SHA-256, like
an API key. It acts for one customer of one tenant, only on ``/v1/portal/…`` routes, for one hour,
until it expires or the operator revokes it (``DELETE /v1/portal-sessions/{portal_session_id}``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.keys import KEY_BYTES, hash_key

PORTAL_SESSION_PREFIX = "portal_"
SESSION_LIFETIME = timedelta(hours=1)
MAX_RETURN_URL = 2000


@dataclass(frozen=True)
class PortalSession:
    portal_session_id: str
    tenant_id: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    return_url: str | None = None
    revoked_at: datetime | None = None

    def revoked(self, at: datetime) -> PortalSession:
        return self if self.revoked_at else replace(self, revoked_at=at)

    def refusal(self, now: datetime) -> str | None:
        """Why this session may not be used at ``now`` (the 401 detail), or None."""
        if self.revoked_at is not None:
            return (
                f"This portal session ({self.portal_session_id}) was revoked at {to_rfc3339(self.revoked_at)}. "
                "Ask the provider for a new portal link."
            )
        if now >= self.expires_at:
            return (
                f"This portal session ({self.portal_session_id}) expired at {to_rfc3339(self.expires_at)} "
                f"(a portal link lasts {int(SESSION_LIFETIME.total_seconds() // 60)} minutes). "
                "Ask the provider for a new portal link."
            )
        return None


def is_portal_token(token: str) -> bool:
    return token.startswith(PORTAL_SESSION_PREFIX)


def new_session(
    *, portal_session_id: str, tenant_id: str, customer_id: str, now: datetime, return_url: str | None
) -> tuple[str, str, PortalSession]:
    """(token shown once, its SHA-256, the stored session)."""
    token = PORTAL_SESSION_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    session = PortalSession(
        portal_session_id=portal_session_id,
        tenant_id=tenant_id,
        customer_id=customer_id,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        return_url=checked_return_url(return_url),
    )
    return token, hash_key(token), session


def checked_return_url(url: str | None) -> str | None:
    """An absolute http(s) URL the portal's "Back" link may lead to, or 422."""
    if url is None:
        return None
    parts = urlsplit(url) if len(url) <= MAX_RETURN_URL and url.isprintable() else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
        raise InvalidInput(
            f"return_url must be an absolute http(s) URL of at most {MAX_RETURN_URL} characters, "
            "e.g. https://example.com/account.",
            field="return_url",
        )
    return url


def portal_url(base_url: str, token: str) -> str:
    """The link to hand to the customer: the portal page with the token in the fragment."""
    return f"{base_url.rstrip('/')}/portal/#session={token}"
