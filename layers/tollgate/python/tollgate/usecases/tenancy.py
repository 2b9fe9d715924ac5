"""Tenants and API keys: create a tenant with its first OWNER key; create, list and revoke keys."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Forbidden, InvalidInput, NotFound
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.domain.keys import ApiKey, KeyStatus, mint
from tollgate.domain.tenants import Tenant
from tollgate.ports import TenancyRepository


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the plaintext: shown once, never stored


def _key_event(type_: str, key: ApiKey) -> DomainEvent:
    data = {
        "key_id": key.key_id,
        "kind": key.kind.value,
        "role": key.role.value if key.role else None,
        "display": key.display,
    }
    return DomainEvent(type_, key.tenant_id, utcnow(), data).with_id(key.key_id, type_)


def create_tenant(repo: TenancyRepository, *, name: str, tenant_id: str | None = None) -> tuple[Tenant, IssuedKey]:
    """Create a tenant and its first OWNER operator key (the only time the key is shown)."""
    now = utcnow()
    tenant = Tenant(tenant_id or new_id("ten"), name, now)
    secret, key_hash, key = mint(
        key_id=new_id("key"),
        tenant_id=tenant.tenant_id,
        kind=KeyKind.OPERATOR,
        role=Role.OWNER,
        created_at=now,
        name="owner",
    )
    created = DomainEvent("tenant.created", tenant.tenant_id, now, {"name": name}).with_id("tenant.created")
    repo.create_tenant(tenant, key, key_hash, [created, _key_event("api_key.created", key)])
    return tenant, IssuedKey(key, secret)


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
) -> IssuedKey:
    if kind is KeyKind.OPERATOR:
        if role is None:
            raise InvalidInput("An operator key needs a role: OWNER, ADMIN, MEMBER or BILLING_ADMIN.", field="role")
        if role is Role.OWNER and caller.role is not Role.OWNER:
            raise Forbidden(f"Role {caller.role} cannot create OWNER keys; use a key with role OWNER.")
    elif kind is KeyKind.CUSTOMER:
        if not customer_id:
            raise InvalidInput("A customer API key needs the customer_id it acts for.", field="customer_id")
        role = None
    else:
        raise InvalidInput("kind must be 'operator' or 'customer'.", field="kind")
    secret, key_hash, key = mint(
        key_id=new_id("key"),
        tenant_id=caller.tenant_id,
        kind=kind,
        role=role,
        created_at=utcnow(),
        customer_id=customer_id,
        subscription_id=subscription_id,
        livemode=livemode,
        name=name,
    )
    repo.add_key(key, key_hash, [_key_event("api_key.created", key)])
    return IssuedKey(key, secret)


def list_api_keys(repo: TenancyRepository, caller: Caller) -> list[ApiKey]:
    return sorted(repo.list_keys(caller.tenant_id), key=lambda k: k.created_at)


def revoke_api_key(
    repo: TenancyRepository, caller: Caller, key_id: str, *, reason: str = "revoked by operator"
) -> ApiKey:
    key = repo.get_key(caller.tenant_id, key_id)
    if key is None:
        raise NotFound(f"API key not found: {key_id}. Check the id with GET /v1/api-keys.")
    if key.role is Role.OWNER and caller.role is not Role.OWNER:
        raise Forbidden(f"Role {caller.role} cannot manage OWNER keys; use a key with role OWNER.")
    if key.status is KeyStatus.REVOKED:
        return key  # revoking twice changes nothing
    revoked_at = utcnow()
    return repo.revoke_key(key, revoked_at, reason, [_key_event("api_key.revoked", key.revoked(revoked_at, reason))])
