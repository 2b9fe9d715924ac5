"""What gateway enforcement stores: policies, access snapshots, strict-mode counters, rate windows and
the reasons of calls that were not metered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from tollgate.domain.events import DomainEvent
from tollgate.domain.gateway.policy import Policy
from tollgate.domain.gateway.snapshot import AccessSnapshot


@dataclass(frozen=True)
class Unmetered:
    """Calls to POST /v1/gateway/meter that metered nothing, for one reason (diagnose reads them)."""

    reason: str
    count: int
    last_at: datetime
    last_route: str
    last_status: int


class GatewayStore(Protocol):
    def put_policy(self, policy: Policy, *, new: bool) -> None:
        """Create (``new``: fails with Conflict if the id exists) or replace a policy."""

    def get_policy(self, tenant_id: str, policy_id: str) -> Policy | None: ...

    def list_policies(self, tenant_id: str) -> list[Policy]:
        """Every policy of the tenant, in creation order."""

    def delete_policy(self, tenant_id: str, policy_id: str) -> bool: ...

    def get_snapshot(self, key_hash: str) -> AccessSnapshot | None:
        """One GetItem: the key's access snapshot, if one was built."""

    def put_snapshot(self, key_hash: str, snapshot: AccessSnapshot, events: list[DomainEvent]) -> None:
        """Store the snapshot, register the key under its customer and record ``events`` in the outbox."""

    def delete_snapshot(self, key_hash: str) -> None: ...

    def customer_key_hashes(self, tenant_id: str, customer_id: str) -> list[str]:
        """The keys whose snapshots show this customer."""

    def take_counter(
        self,
        tenant_id: str,
        subscription_id: str,
        meter: str,
        period: str,
        increment: Decimal,
        limit: Decimal,
        seed: Decimal,
    ) -> tuple[bool, Decimal]:
        """Strict mode: add ``increment`` to the period's counter (starting from ``seed``) unless it would pass
        ``limit``; one conditional UpdateItem. Returns (taken, the counter before this request)."""

    def give_back(self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal) -> None: ...

    def give_back_once(
        self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal, request_id: str
    ) -> bool:
        """Return a strict-mode increment the upstream's answer did not earn (its status is not metered),
        once per request id (a marker item in the same transaction); False when already returned."""

    def take_rate(
        self, tenant_id: str, subscription_id: str, window_start: int, limit: int, window_seconds: int
    ) -> bool:
        """Count one request in the fixed window; False (nothing counted) when the limit is reached."""

    def record_unmetered(self, tenant_id: str, reason: str, route: str, status: int, at: datetime) -> None: ...

    def unmetered(self, tenant_id: str) -> list[Unmetered]: ...
