"""Tenants and API keys: create a tenant with its first OWNER key; create, list and revoke keys; the
platform admin's recovery of a tenant locked out of its OWNER keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tollgate.domain.access import Caller, KeyKind, Role, echo
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tollgate.domain.event_types import ApiKeyData, TenantData
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.domain.keys import ApiKey, KeyStatus, mint
from tollgate.domain.paging import Page
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.tenants import Tenant
from tollgate.ports import TenancyRepository

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the plaintext: shown once, never stored


def _key_event(type_: str, key: ApiKey, at: datetime, **extra: str) -> DomainEvent:
    data: ApiKeyData = {
        "key_id": key.key_id,
        "kind": key.kind.value,
        "role": key.role.value if key.role else None,
        "display": key.display,
        "customer_id": key.customer_id,
    }
    return DomainEvent(type_, key.tenant_id, at, {**data, **extra}).with_id(key.key_id, type_)


def _mint_owner_key(tenant_id: str, now: datetime, name: str) -> tuple[str, str, ApiKey]:
    return mint(
        key_id=new_id("key"),
        tenant_id=tenant_id,
        kind=KeyKind.OPERATOR,
        role=Role.OWNER,
        created_at=now,
        name=name,
    )


def create_tenant(
    repo: TenancyRepository, *, name: str, tenant_id: str | None = None, clock: Clock = utcnow
) -> tuple[Tenant, IssuedKey]:
    """Create a tenant and its first OWNER operator key (the only time the key is shown)."""
    now = clock()
    tenant = Tenant(tenant_id or new_id("ten"), name, now)
    secret, key_hash, key = _mint_owner_key(tenant.tenant_id, now, "owner")
    created = DomainEvent("tenant.created", tenant.tenant_id, now, {**TenantData(name=name)}).with_id("tenant.created")
    repo.create_tenant(tenant, key, key_hash, [created, _key_event("api_key.created", key, now)])
    return tenant, IssuedKey(key, secret)


def recover_owner_key(
    repo: TenancyRepository, tenant_id: str, *, name: str = "recovered owner", clock: Clock = utcnow
) -> IssuedKey:
    """``POST /v1/tenants/{tenant_id}/owner-keys`` (platform admin only): a new OWNER key for a tenant
    that lost or revoked its own, shown once. The tenant's other keys are left as they are."""
    if repo.get_tenant(tenant_id) is None:
        raise NotFound(f"Tenant not found: {echo(tenant_id)}. Check the id the tenant was created with.")
    now = clock()
    secret, key_hash, key = _mint_owner_key(tenant_id, now, name or "recovered owner")
    repo.add_key(key, key_hash, [_key_event("api_key.created", key, now, issued_by="platform_admin")])
    return IssuedKey(key, secret)


def create_api_key(
    repo: TenancyRepository,
    caller: Caller,
    *,
    kind: KeyKind,
    role: Role | None = None,
    name: str = "",
    customer_id: str | None = None,
    subscription_id: str | None = None,
    livemode: bool = True,
    clock: Clock = utcnow,
) -> IssuedKey:
    if kind is KeyKind.OPERATOR:
        if role is None:
            raise InvalidInput(
                "An operator key needs a role: OWNER, ADMIN, MEMBER, BILLING_ADMIN or GATEWAY.", field="role"
            )
        if role is Role.OWNER and caller.role is not Role.OWNER:
            raise Forbidden(f"Role {caller.role} cannot create OWNER keys; use a key with role OWNER.")
    elif kind is KeyKind.CUSTOMER:
        if not customer_id:
            raise InvalidInput("A customer API key needs the customer_id it acts for.", field="customer_id")
        role = None
    else:
        raise InvalidInput("kind must be 'operator' or 'customer'.", field="kind")
    now = clock()
    secret, key_hash, key = mint(
        key_id=new_id("key"),
        tenant_id=caller.tenant_id,
        kind=kind,
        role=role,
        created_at=now,
        customer_id=customer_id,
        subscription_id=subscription_id,
        livemode=livemode,
        name=name,
    )
    repo.add_key(key, key_hash, [_key_event("api_key.created", key, now)])
    return IssuedKey(key, secret)


def list_api_keys(repo: TenancyRepository, caller: Caller, *, limit: int, cursor: str | None) -> Page[ApiKey]:
    """One page of the tenant's keys, by key id."""
    return repo.page_keys(caller.tenant_id, limit=limit, cursor=cursor)


def _other_active_owner(repo: TenancyRepository, key: ApiKey) -> ApiKey:
    """Another active OWNER key of the tenant, or 409 LAST_OWNER_KEY: without one nobody could mint keys."""
    others = [
        k
        for k in repo.keys_with_role(key.tenant_id, Role.OWNER)
        if k.status is KeyStatus.ACTIVE and k.key_id != key.key_id
    ]
    if not others:
        raise Conflict(
            f"API key {key.key_id} is the tenant's last active OWNER key: revoking it would leave nobody able to "
            "create keys. Create another OWNER key first (POST /v1/api-keys with role OWNER), then revoke this one.",
            code="LAST_OWNER_KEY",
        )
    return min(others, key=lambda k: k.created_at)


def revoke_if_active(repo: TenancyRepository, key: ApiKey, *, reason: str, clock: Clock = utcnow) -> ApiKey:
    """Revoke ``key`` only while it is still ACTIVE: one conditional write, no retry (ConcurrentUpdate when
    another request revoked it first)."""
    at = clock()
    return repo.revoke_key(key, at, reason, [_key_event("api_key.revoked", key.revoked(at, reason), at)])


def revoke_api_key(
    repo: TenancyRepository,
    caller: Caller,
    key_id: str,
    *,
    reason: str = "revoked by operator",
    clock: Clock = utcnow,
) -> ApiKey:
    """Revoke a key (twice changes nothing). The last active OWNER key cannot be revoked (409
    LAST_OWNER_KEY); the revocation lands only while the other OWNER key it counted on is still
    active, so two OWNER keys revoking each other at once cannot both succeed."""

    def step() -> ApiKey:
        key = repo.get_key(caller.tenant_id, key_id)
        if key is None:
            raise NotFound(f"API key not found: {echo(key_id)}. Check the id with GET /v1/api-keys.")
        if key.role is Role.OWNER and caller.role is not Role.OWNER:
            raise Forbidden(f"Role {caller.role} cannot manage OWNER keys; use a key with role OWNER.")
        if key.status is KeyStatus.REVOKED:
            return key
        keeps = _other_active_owner(repo, key) if key.role is Role.OWNER else None
        at = clock()
        event = _key_event("api_key.revoked", key.revoked(at, reason), at)
        return repo.revoke_key(key, at, reason, [event], still_active=keeps)

    return retry_on_conflict(step, exhausted=f"API key {key_id} or the tenant's OWNER keys kept changing; retry.")
