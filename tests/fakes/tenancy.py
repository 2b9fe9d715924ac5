"""In-memory fake of ``TenancyRepository`` (same contract as ``tollgate.adapters.dynamodb.tenancy``)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from tests.fakes.paging import fake_page
from tollgate.domain.access import Role
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.keys import ApiKey, KeyStatus
from tollgate.domain.paging import Page
from tollgate.domain.tenants import Tenant


class InMemoryTenancyRepository:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.keys: dict[str, ApiKey] = {}  # by hash
        self.events: list[DomainEvent] = []
        self._lock = threading.Lock()

    def create_tenant(self, tenant: Tenant, owner_key: ApiKey, owner_key_hash: str, events: list[DomainEvent]) -> None:
        self.tenants[tenant.tenant_id] = tenant
        self.keys[owner_key_hash] = owner_key
        self.events.extend(events)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    def list_tenant_ids(self) -> list[str]:
        return sorted(self.tenants)

    def add_key(self, key: ApiKey, key_hash: str, events: list[DomainEvent]) -> None:
        self.keys[key_hash] = key
        self.events.extend(events)

    def find_key_by_hash(self, key_hash: str) -> ApiKey | None:
        return self.keys.get(key_hash)

    def get_key(self, tenant_id: str, key_id: str) -> ApiKey | None:
        return next((k for k in self.keys.values() if k.tenant_id == tenant_id and k.key_id == key_id), None)

    def page_keys(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[ApiKey]:
        mine = sorted((k for k in self.keys.values() if k.tenant_id == tenant_id), key=lambda k: k.key_id)
        return fake_page(mine, lambda k: k.key_id, limit=limit, cursor=cursor)

    def keys_with_role(self, tenant_id: str, role: Role) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.tenant_id == tenant_id and k.role is role]

    def subscription_keys(self, tenant_id: str, subscription_id: str) -> list[ApiKey]:
        return [k for k in self.keys.values() if k.tenant_id == tenant_id and k.subscription_id == subscription_id]

    def revoke_key(
        self, key: ApiKey, at: datetime, reason: str, events: list[DomainEvent], *, still_active: ApiKey | None = None
    ) -> ApiKey:
        with self._lock:  # the check and the write are one transaction, as in DynamoDB
            if still_active is not None:
                other = self.get_key(still_active.tenant_id, still_active.key_id)
                if other is None or other.status is not KeyStatus.ACTIVE:
                    raise ConcurrentUpdate(f"API key {still_active.key_id} changed meanwhile")
            for h, k in self.keys.items():
                if k.key_id == key.key_id:
                    if k.status is not KeyStatus.ACTIVE:
                        raise ConcurrentUpdate(f"API key {key.key_id} changed meanwhile")
                    self.keys[h] = k.revoked(at, reason)
                    self.events.extend(events)
                    return self.keys[h]
            return key

    def touch_key(self, key_hash: str, at: datetime) -> None:
        if key_hash in self.keys:
            self.keys[key_hash] = replace(self.keys[key_hash], last_used_at=at)
