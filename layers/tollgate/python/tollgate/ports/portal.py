"""Customer portal sessions (``tollgate.domain.portal_sessions``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tollgate.domain.portal_sessions import PortalSession


class PortalSessionRepository(Protocol):
    def add(self, session: PortalSession, token_hash: str) -> None: ...

    def find_by_hash(self, token_hash: str) -> PortalSession | None:
        """The session a token opens (the authorizer's one read)."""
        ...

    def get(self, tenant_id: str, portal_session_id: str) -> PortalSession | None: ...

    def revoke(self, session: PortalSession, at: datetime) -> PortalSession:
        """Mark revoked (twice changes nothing); returns the stored session."""
        ...
