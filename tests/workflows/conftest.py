from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tollgate import wiring
from tollgate.domain.access import Caller, KeyKind, Role
from tollgate.usecases import catalog, customers, subscriptions


@pytest.fixture(scope="module")
def stack(local_stack):
    return local_stack


class TenantBuilder:
    """Builds a tenant's catalog, customers and subscriptions through the use cases (no HTTP)."""

    def __init__(self, stack, name: str) -> None:
        self.stack = stack
        boot = stack.bootstrap_tenant(name)
        self.tenant_id = boot.tenant_id
        self.caller = Caller(boot.tenant_id, KeyKind.OPERATOR, "key_builder", Role.OWNER)
        self.plan_id: str | None = None

    def plan(self, fee: str = "10.00") -> str:
        with self.stack.exclusive():
            return self._plan(fee)

    def _plan(self, fee: str) -> str:
        plan, _ = catalog.create_plan(
            wiring.catalog_repository(),
            self.caller,
            {"name": "Pro", "currency": "USD", "fees": [{"name": "Platform", "amount": fee, "timing": "in_advance"}]},
        )
        catalog.publish_plan_version(wiring.catalog_repository(), self.caller, plan.plan_id, 1)
        self.plan_id = plan.plan_id
        return plan.plan_id

    def subscriptions(self, n: int, *, started_days_ago: int = 40) -> list[str]:
        with self.stack.exclusive():
            return self._subscriptions(n, started_days_ago)

    def _subscriptions(self, n: int, started_days_ago: int) -> list[str]:
        plan_id = self.plan_id or self._plan("10.00")
        start = datetime.now(UTC) - timedelta(days=started_days_ago)
        ids = []
        for i in range(n):
            c = customers.create_customer(
                wiring.customer_repository(), self.tenant_id, {"external_id": f"c{i}-{id(self)}"}
            )
            s = subscriptions.create_subscription(
                wiring.subscription_repos(),
                self.tenant_id,
                {"customer_id": c.customer_id, "plan_id": plan_id, "start_at": start},
            )
            ids.append(s.subscription_id)
        return ids


@pytest.fixture
def tenant_builder(stack):
    return lambda name: TenantBuilder(stack, name)
