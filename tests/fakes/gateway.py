"""In-memory fake of ``GatewayStore`` (same contract as ``tollgate.adapters.dynamodb.gateway``): one lock
makes each counter update atomic, as a conditional UpdateItem is on DynamoDB."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from decimal import Decimal

from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.gateway.policy import Policy
from tollgate.domain.gateway.snapshot import AccessSnapshot
from tollgate.ports.gateway import Unmetered


class InMemoryGatewayStore:
    def __init__(self) -> None:
        self.policies: dict[tuple[str, str], Policy] = {}
        self.snapshots: dict[str, AccessSnapshot] = {}
        self.customer_keys: dict[tuple[str, str], set[str]] = {}
        self.counters: dict[tuple[str, ...], Decimal] = {}
        self.rates: Counter[tuple[str, str, int]] = Counter()
        self.unmetered_calls: dict[tuple[str, str], Unmetered] = {}
        self.events: list[DomainEvent] = []
        self.writes = 0
        self._lock = threading.Lock()

    def put_policy(self, policy: Policy, *, new: bool) -> None:
        key = (policy.tenant_id, policy.policy_id)
        if new == (key in self.policies):
            raise Conflict(f"Policy {policy.policy_id} {'already exists' if new else 'was deleted meanwhile'}.")
        self.policies[key] = policy

    def get_policy(self, tenant_id: str, policy_id: str) -> Policy | None:
        return self.policies.get((tenant_id, policy_id))

    def list_policies(self, tenant_id: str) -> list[Policy]:
        mine = [p for (t, _), p in self.policies.items() if t == tenant_id]
        return sorted(mine, key=lambda p: (p.created_at, p.policy_id))

    def delete_policy(self, tenant_id: str, policy_id: str) -> bool:
        return self.policies.pop((tenant_id, policy_id), None) is not None

    def get_snapshot(self, key_hash: str) -> AccessSnapshot | None:
        return self.snapshots.get(key_hash)

    def put_snapshot(self, key_hash: str, snapshot: AccessSnapshot, events: list[DomainEvent]) -> None:
        with self._lock:
            self.writes += 1
            self.snapshots[key_hash] = snapshot
            if snapshot.customer_id:
                self.customer_keys.setdefault((snapshot.tenant_id, snapshot.customer_id), set()).add(key_hash)
            known = {e.event_id for e in self.events}
            self.events.extend(e for e in events if e.event_id not in known)

    def delete_snapshot(self, key_hash: str) -> None:
        self.writes += 1
        self.snapshots.pop(key_hash, None)

    def customer_key_hashes(self, tenant_id: str, customer_id: str) -> list[str]:
        return sorted(self.customer_keys.get((tenant_id, customer_id), set()))

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
        key = (tenant_id, subscription_id, meter, period)
        with self._lock:
            before = self.counters.get(key, seed)
            if before + increment > limit:
                return False, before
            self.writes += 1
            self.counters[key] = before + increment
            return True, before

    def give_back(self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal) -> None:
        key = (tenant_id, subscription_id, meter, period)
        with self._lock:
            if key in self.counters:
                self.counters[key] -= increment

    def give_back_once(
        self, tenant_id: str, subscription_id: str, meter: str, period: str, increment: Decimal, request_id: str
    ) -> bool:
        key = (tenant_id, subscription_id, meter, period)
        with self._lock:
            marker = (*key, "GIVEBACK", request_id)
            if marker in self.counters or key not in self.counters:
                return False
            self.counters[marker] = Decimal(0)
            self.counters[key] -= increment
            return True

    def take_rate(
        self, tenant_id: str, subscription_id: str, window_start: int, limit: int, window_seconds: int
    ) -> bool:
        key = (tenant_id, subscription_id, window_start)
        with self._lock:
            if self.rates[key] >= limit:
                return False
            self.rates[key] += 1
            return True

    def record_unmetered(self, tenant_id: str, reason: str, route: str, status: int, at: datetime) -> None:
        before = self.unmetered_calls.get((tenant_id, reason))
        count = before.count + 1 if before else 1
        self.unmetered_calls[(tenant_id, reason)] = Unmetered(reason, count, at, route, status)

    def unmetered(self, tenant_id: str) -> list[Unmetered]:
        return [u for (t, _), u in self.unmetered_calls.items() if t == tenant_id]
