"""Eager invalidation: a domain event about a customer's subscription, payments, invoices, wallet, keys or
metadata, or about a plan (its metadata: grace period, features, rate limit), rebuilds the access
snapshots that show it (EventBridge rule ``gateway-access`` -> SQS -> ``gateway_access``). Gateways
see the change within their cache TTL; the snapshot itself changes within the event's delivery."""

from __future__ import annotations

from tollgate.domain.events import DomainEvent
from tollgate.usecases.gateway.repos import GatewayRepos
from tollgate.usecases.gateway.snapshots import refresh_customer

# Also the rule's pattern (infra/definitions/events.json), kept equal by a unit test.
PREFIXES = ("subscription.", "invoice.", "customer.", "wallet.", "api_key.", "credit_note.", "plan.")


def customers_of(repos: GatewayRepos, event: DomainEvent) -> set[tuple[str, str]]:
    customer_id = event.data.get("customer_id")
    if customer_id:
        return {(event.tenant_id, str(customer_id))}
    if event.type == "plan.updated" and event.data.get("plan_id"):
        subs = repos.subscriptions.list_for_tenant(event.tenant_id)
        return {(event.tenant_id, s.customer_id) for s in subs if s.live and s.plan.plan_id == event.data["plan_id"]}
    return set()


def on_event(repos: GatewayRepos, event: DomainEvent) -> int:
    """Rebuild the snapshots the event changes; returns how many (a failure raises: the queue retries)."""
    if not event.type.startswith(PREFIXES):
        return 0
    return sum(refresh_customer(repos, tenant_id, customer_id) for tenant_id, customer_id in customers_of(repos, event))
