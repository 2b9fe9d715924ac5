"""Helpers for the billing e2e tests: a tenant of one's own, a subscription whose first period has
ended, and billing it in-process through the same use case and wiring the bill run uses."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.e2e import builders
from tests.e2e.conftest import client


def own_tenant(server, name: str = "billing e2e") -> httpx.Client:
    boot = server.stack.bootstrap_tenant(name)
    return client(server, boot.operator_key, boot.tenant_id)


def tenant_of(c: httpx.Client) -> str:
    return c.headers["X-Tenant-Id"]


def last_month_start(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    month = now.month - 1 or 12
    return datetime(now.year - (now.month == 1), month, 1, tzinfo=UTC)


def ended_subscription(c: httpx.Client, customer_id: str, plan_id: str, **fields) -> dict:
    """A calendar-anchored subscription that started on the 1st of last month: its first period has ended."""
    return builders.subscribe(c, customer_id, plan_id, anchor="CALENDAR", start_at=last_month_start(), **fields)


def first_period(tenant_id: str, subscription_id: str):
    from tollgate import wiring

    sub = wiring.subscription_repository().get(tenant_id, subscription_id)
    return sub.period(sub.started_at)


def bill(tenant_id: str, subscription_id: str, **kwargs):
    """Bill the subscription's first period, in-process (what a bill run's task does for it)."""
    from infra.local import lambda_dispatch
    from tollgate import wiring
    from tollgate.usecases.billing import bill_subscription

    period = first_period(tenant_id, subscription_id)
    with lambda_dispatch.LOCK:
        return bill_subscription(wiring.billing_repos(), tenant_id, subscription_id, period.start, period.end, **kwargs)


def invoiced(c: httpx.Client, fee: str = "10.00", **customer_fields) -> tuple[dict, dict, str]:
    """A customer, a fee-only plan, an ended subscription and its invoice id (billed)."""
    cust = builders.customer(c, **customer_fields)
    plan = builders.plan(c, fee=fee)
    sub = ended_subscription(c, cust["id"], plan["id"])
    result = bill(tenant_of(c), sub["id"])
    assert result.status == "INVOICED", result
    return cust, sub, result.invoice_id
