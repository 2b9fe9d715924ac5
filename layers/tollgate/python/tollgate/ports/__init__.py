"""The small interfaces use cases depend on. AWS adapters live in ``tollgate.adapters``; in-memory fakes
for unit tests in ``tests/fakes``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tollgate.domain.access import Role
from tollgate.domain.bill_runs import BillRun, SubscriptionResult
from tollgate.domain.events import DomainEvent
from tollgate.domain.keys import ApiKey
from tollgate.domain.paging import Page
from tollgate.domain.tenants import Tenant


class TenancyRepository(Protocol):
    def create_tenant(
        self, tenant: Tenant, owner_key: ApiKey, owner_key_hash: str, events: list[DomainEvent]
    ) -> None: ...

    def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    def list_tenant_ids(self) -> list[str]: ...

    def add_key(self, key: ApiKey, key_hash: str, events: list[DomainEvent]) -> None: ...

    def find_key_by_hash(self, key_hash: str) -> ApiKey | None: ...

    def get_key(self, tenant_id: str, key_id: str) -> ApiKey | None: ...

    def page_keys(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[ApiKey]: ...

    def keys_with_role(self, tenant_id: str, role: Role) -> list[ApiKey]: ...

    def subscription_keys(self, tenant_id: str, subscription_id: str) -> list[ApiKey]: ...

    def revoke_key(
        self, key: ApiKey, at: datetime, reason: str, events: list[DomainEvent], *, still_active: ApiKey | None = None
    ) -> ApiKey:
        """Revoke ``key`` if it is still active, and only while ``still_active`` (another key) is: a lost
        race on either raises ``ConcurrentUpdate``."""
        ...

    def touch_key(self, key_hash: str, at: datetime) -> None: ...


class EventLog(Protocol):
    """The per-tenant log of domain events (GET /v1/billing-events)."""

    def append(self, events: list[DomainEvent]) -> None: ...

    def page_events(
        self, tenant_id: str, *, type_prefix: str | None = None, limit: int, cursor: str | None = None
    ) -> Page[DomainEvent]: ...


class BillRunRepository(Protocol):
    def open(self, run: BillRun) -> tuple[BillRun, bool]: ...

    def start_attempt(self, tenant_id: str, bill_run_id: str, execution: str = "") -> BillRun: ...

    def get(self, tenant_id: str, bill_run_id: str) -> BillRun | None: ...

    def page_runs(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[BillRun]: ...

    def record_results(self, tenant_id: str, bill_run_id: str, results: list[SubscriptionResult]) -> None: ...

    def results(self, tenant_id: str, bill_run_id: str) -> list[SubscriptionResult]: ...

    def results_for(
        self, tenant_id: str, bill_run_id: str, subscription_ids: list[str]
    ) -> list[SubscriptionResult]: ...

    def unfinished(self, tenant_id: str, bill_run_id: str) -> list[str]: ...

    def close(self, tenant_id: str, bill_run_id: str, at: datetime, error: str | None = None) -> BillRun: ...


class ManifestStore(Protocol):
    def put(self, key: str, items: list[dict]) -> dict[str, str]: ...

    def get(self, key: str) -> list[dict]: ...
