"""Customer portal sessions: create (operator), revoke (operator), and open (the authorizer).

``POST /v1/portal-sessions`` makes a one-hour link for one customer; ``DELETE
/v1/portal-sessions/{portal_session_id}`` ends it at once. The authorizer turns the token into a
``KeyKind.PORTAL`` caller for that customer; ``tollgate.api.access`` lets that caller onto the
``/v1/portal/`` routes only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tollgate.domain.access import Caller, KeyKind, echo
from tollgate.domain.catalog.common import is_identifier
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.keys import hash_key
from tollgate.domain.portal_sessions import PortalSession, new_session
from tollgate.ports.customers import CustomerRepository
from tollgate.ports.portal import PortalSessionRepository

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OpenedSession:
    session: PortalSession
    token: str  # shown once, in the URL's fragment; never stored


def create_session(
    sessions: PortalSessionRepository,
    customers: CustomerRepository,
    tenant_id: str,
    customer_id: str,
    *,
    return_url: str | None = None,
    clock: Clock = utcnow,
) -> OpenedSession:
    """A new session for one of the tenant's customers (another tenant's customer: 404)."""
    if customers.get(tenant_id, customer_id) is None:
        raise NotFound(
            f"Customer not found: {echo(customer_id)}. Check the id with GET /v1/customers.", code="CUSTOMER_NOT_FOUND"
        )
    token, token_hash, session = new_session(
        portal_session_id=new_id("pts"),
        tenant_id=tenant_id,
        customer_id=customer_id,
        now=clock(),
        return_url=return_url,
    )
    sessions.add(session, token_hash)
    return OpenedSession(session, token)


def revoke_session(
    sessions: PortalSessionRepository, tenant_id: str, portal_session_id: str, *, clock: Clock = utcnow
) -> PortalSession:
    """End a session now (a repeat answers the same session, revoked at the first time)."""
    session = sessions.get(tenant_id, portal_session_id) if is_identifier(portal_session_id) else None
    if session is None:
        raise NotFound(
            f"Portal session not found: {echo(portal_session_id)}. Use the portal_session_id that "
            "POST /v1/portal-sessions answered.",
            code="PORTAL_SESSION_NOT_FOUND",
        )
    return sessions.revoke(session, clock())


def open_session(
    sessions: PortalSessionRepository, token: str, now: datetime
) -> tuple[PortalSession | None, str | None]:
    """The live session a portal token opens, or the 401 detail (unknown, expired, revoked)."""
    session = sessions.find_by_hash(hash_key(token))
    if session is None:
        return None, (
            f"Unknown portal session (portal_…{echo(token[-4:])}): open the portal from the link the provider "
            "gave you, or ask for a new one."
        )
    refusal = session.refusal(now)
    return (None, refusal) if refusal else (session, None)


def session_caller(session: PortalSession) -> Caller:
    return Caller(
        tenant_id=session.tenant_id,
        kind=KeyKind.PORTAL,
        key_id=session.portal_session_id,
        customer_id=session.customer_id,
    )
