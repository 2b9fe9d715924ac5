"""In-memory fake of ``PortalSessionRepository`` (same contract as ``tollgate.adapters.dynamodb.portal_sessions``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tollgate.domain.portal_sessions import PortalSession


class InMemoryPortalSessionRepository:
    def __init__(self) -> None:
        self.sessions: dict[str, PortalSession] = {}  # by token hash

    def add(self, session: PortalSession, token_hash: str) -> None:
        assert token_hash not in self.sessions
        self.sessions[token_hash] = session

    def find_by_hash(self, token_hash: str) -> PortalSession | None:
        return self.sessions.get(token_hash)

    def _hash_of(self, tenant_id: str, portal_session_id: str) -> str | None:
        return next(
            (
                h
                for h, s in self.sessions.items()
                if s.tenant_id == tenant_id and s.portal_session_id == portal_session_id
            ),
            None,
        )

    def get(self, tenant_id: str, portal_session_id: str) -> PortalSession | None:
        h = self._hash_of(tenant_id, portal_session_id)
        return self.sessions[h] if h else None

    def revoke(self, session: PortalSession, at: datetime) -> PortalSession:
        h = self._hash_of(session.tenant_id, session.portal_session_id)
        if h is None:
            return session
        stored = self.sessions[h]
        if stored.revoked_at is None:
            stored = replace(stored, revoked_at=at)
            self.sessions[h] = stored
        return stored
