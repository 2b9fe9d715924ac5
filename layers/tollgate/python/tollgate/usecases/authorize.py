"""Who is calling: resolve ``Authorization: Bearer <key>`` (+ ``X-Tenant-Id``) to a Caller, or say why not.

Runs in the API Gateway REQUEST authorizer on AWS and before every route in the local stack. Each 401
cause of seed 000 ("401 Unauthorized on every request") gets its own detail; none reveals another
tenant's data.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tollgate.domain.access import Caller, KeyKind, echo
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.keys import KeyStatus, hash_key, kind_of_prefix, prefix_of
from tollgate.domain.portal_sessions import is_portal_token
from tollgate.ports import TenancyRepository
from tollgate.ports.portal import PortalSessionRepository

MISSING_HEADERS = "Missing credentials: send both 'Authorization: Bearer <key>' and 'X-Tenant-Id: <your-tenant-id>'."
# Envoy's ext_authz forwards the client's own Authorization (the customer's key): the tenant's GATEWAY key
# travels in this header on that one route (api.json: the "gateway_key" authorizer caches on it).
GATEWAY_KEY_HEADER = "X-Tollgate-Gateway-Key"
EXT_AUTHZ_RESOURCE = "/v1/gateway/ext-authz/{proxy+}"


def credential_header_for(resource: str | None) -> str:
    """The header holding the caller's key on the API Gateway resource ``resource``."""
    return GATEWAY_KEY_HEADER if resource == EXT_AUTHZ_RESOURCE else "Authorization"


@dataclass(frozen=True)
class Decision:
    caller: Caller | None
    error: str | None = None
    key_display: str = ""
    expires_at: str = ""  # a portal session's end: the API refuses it after then, whatever the cache says

    def context(self) -> dict[str, str]:
        """The authorizer context API Gateway passes on to the function (string values only)."""
        if self.caller is None:
            return {"auth_error": self.error or "Unauthorized"}
        c = self.caller
        return {
            "tenant_id": c.tenant_id,
            "kind": c.kind.value,
            "key_id": c.key_id,
            "role": c.role.value if c.role else "",
            "customer_id": c.customer_id or "",
            "subscription_id": c.subscription_id or "",
            "livemode": "true" if c.livemode else "false",
            "key_display": self.key_display,
            **({"expires_at": self.expires_at} if self.expires_at else {}),
        }


def header(headers: dict[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authorize(
    repo: TenancyRepository,
    headers: dict[str, str] | None,
    *,
    platform_key_sha256: Callable[[], str | None],
    clock: Callable[[], datetime] = utcnow,
    credential_header: str = "Authorization",
    portal_sessions: PortalSessionRepository | None = None,
) -> Decision:
    """Decide who calls, from the key alone. API Gateway caches this decision on the identity headers
    (only ``Authorization`` for the compatibility endpoints), so it must not depend on anything else:
    ``X-Tenant-Id`` is checked against the key's tenant by the API on every request
    (:func:`tenant_mismatch`)."""
    authorization = header(headers, credential_header)
    if credential_header != "Authorization" and authorization and " " not in authorization.strip():
        authorization = f"Bearer {authorization.strip()}"  # the gateway key header holds the bare key
    token = bearer_token(authorization)
    if token is None:
        if authorization:
            return Decision(None, "Malformed Authorization header: use 'Authorization: Bearer <key>'.")
        return Decision(None, MISSING_HEADERS)
    if is_portal_token(token):
        return _portal(portal_sessions, token, clock())
    prefix = prefix_of(token)
    if prefix is None:
        return Decision(
            None,
            "Unrecognized key prefix: operator keys start with afo_ (management API); customer API keys "
            "start with sk_live_ or sk_test_ (ingestion and the customer's own data).",
        )
    kind = kind_of_prefix(prefix)
    if kind is KeyKind.PLATFORM:
        expected = platform_key_sha256() or ""
        if expected and hmac.compare_digest(hash_key(token), expected):
            return Decision(Caller(tenant_id="*", kind=KeyKind.PLATFORM, key_id="platform"))
        return Decision(None, "Unknown platform-admin credential.")
    key_hash = hash_key(token)
    key = repo.find_key_by_hash(key_hash)
    if key is None or key.prefix != prefix:
        return Decision(None, f"Unknown API key ({prefix}…{echo(token[-4:])}): check for typos or create a new key.")
    if key.status is KeyStatus.REVOKED:
        when = to_rfc3339(key.revoked_at) if key.revoked_at else "earlier"
        if key.subscription_id and (key.revoked_reason or "").startswith("subscription"):
            return Decision(
                None,
                f"This key ({key.display}) was revoked at {when} because its subscription {key.subscription_id} "
                "was cancelled. The customer must re-subscribe to get a new key.",
            )
        return Decision(
            None,
            f"This key ({key.display}) was revoked at {when}. Create a new key (POST /v1/api-keys) and use it instead.",
        )
    with contextlib.suppress(Exception):  # last-used is informational; never fail authentication on it
        repo.touch_key(key_hash, clock())
    return Decision(
        Caller(
            tenant_id=key.tenant_id,
            kind=key.kind,
            key_id=key.key_id,
            role=key.role,
            customer_id=key.customer_id,
            subscription_id=key.subscription_id,
            livemode=key.livemode,
        ),
        key_display=key.display,
    )


def _portal(sessions: PortalSessionRepository | None, token: str, now: datetime) -> Decision:
    """A customer portal session token (``portal_…``): its customer, or why not (401 detail)."""
    from tollgate.usecases.portal_sessions import open_session, session_caller

    if sessions is None:
        return Decision(None, "Portal sessions are not accepted on this endpoint.")
    session, error = open_session(sessions, token, now)
    if session is None:
        return Decision(None, error)
    return Decision(
        session_caller(session),
        key_display=f"portal session {session.portal_session_id}",
        expires_at=to_rfc3339(session.expires_at),
    )


def tenant_mismatch(caller: Caller, key_display: str, tenant_header: str | None) -> str | None:
    """The 401 detail when ``X-Tenant-Id`` names another tenant than the key's (without revealing the
    key's own tenant), else None. The platform credential is not a tenant's key."""
    if tenant_header is None or caller.kind is KeyKind.PLATFORM or tenant_header == caller.tenant_id:
        return None
    return (
        f"The key {key_display} does not belong to tenant '{echo(tenant_header)}'. Send the X-Tenant-Id of the tenant "
        "that issued the key."
    )
