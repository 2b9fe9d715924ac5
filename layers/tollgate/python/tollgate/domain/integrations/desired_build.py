"""Build the DesiredGateway of one product: a pure function of the product, its plans' PUBLISHED versions and
their subscriptions (issue 19; contract: INTEGRATIONS.md).

- One ``GatewayPlan`` per PUBLISHED version of a plan of the product (``plan_id-v<version>``).
- ``Throttle``: the plan's ``metadata.gateway_rate_limit`` (requests per second, 1..10,000) and
  ``metadata.gateway_burst_limit`` (default 2 x the rate, 1..20,000); no rate limit → no throttle.
- ``Quota``: the smallest HARD entitlement limit of the version (whole requests, rounded down), per the
  plan's billing interval. Gateways count quotas per DAY, WEEK or MONTH only: a QUARTER or YEAR plan's
  limit is pushed per MONTH, never stricter than Tollgate's own enforcement (the gateway quota is a
  backstop; ``POST /v1/gateway/check`` decides the exact allowance).
- One ``GatewayKey`` per subscription of those versions with its Tollgate-generated usage identifier;
  enabled iff the subscription is ACTIVE, TRIALING or PAST_DUE. A CANCELLED or EXPIRED subscription keeps
  its key, disabled, so the next sync disables it at the gateway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from tollgate.domain.catalog import Plan, PlanVersion, Product
from tollgate.domain.catalog.plans import BillingInterval, VersionStatus
from tollgate.domain.integrations.desired import DesiredGateway, GatewayKey, GatewayPlan, Quota, QuotaPeriod, Throttle
from tollgate.domain.subscriptions import Subscription, SubscriptionStatus

RATE_KEY, BURST_KEY = "gateway_rate_limit", "gateway_burst_limit"
MAX_RATE, MAX_BURST = 10_000, 20_000
MAX_QUOTA = 2**53  # gateways take whole numbers; an entitlement above this is pushed as this
ENABLED_STATUSES = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE})
_PERIOD: dict[BillingInterval, QuotaPeriod] = {
    BillingInterval.MONTH: "MONTH",
    BillingInterval.QUARTER: "MONTH",
    BillingInterval.YEAR: "MONTH",
}


def plan_version_id(plan_id: str, version: int) -> str:
    """How a plan version is named at a gateway (a usage plan's tag, an APIM product id, an Apigee product)."""
    return f"{plan_id}-v{version}"


def _bounded_int(value: Any, maximum: int) -> int | None:
    """A positive whole number from plan metadata (a number or a numeric string); None when absent or not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return None
    return min(number, maximum) if number >= 1 else None


def throttle_of(plan: Plan) -> Throttle | None:
    rate = _bounded_int(plan.metadata.get(RATE_KEY), MAX_RATE)
    if rate is None:
        return None
    burst = _bounded_int(plan.metadata.get(BURST_KEY), MAX_BURST) or min(2 * rate, MAX_BURST)
    return Throttle(rate_per_second=rate, burst=burst)


def quota_of(plan: Plan, version: PlanVersion) -> Quota | None:
    hard = [e.limit for e in version.content.entitlements if e.hard]
    if not hard:
        return None
    limit = max(0, min(int(min(hard)), MAX_QUOTA))
    return Quota(limit=limit, period=_PERIOD[plan.billing_interval])


def gateway_plans(
    product_id: str, plans: Iterable[Plan], versions: Mapping[str, Iterable[PlanVersion]]
) -> list[GatewayPlan]:
    """A GatewayPlan per PUBLISHED version of each plan of the product (``versions``: plan id → its versions)."""
    built = []
    for plan in (p for p in plans if p.product_id == product_id):
        for version in versions.get(plan.plan_id, ()):
            if version.status is not VersionStatus.PUBLISHED:
                continue
            built.append(
                GatewayPlan(
                    plan_version_id=plan_version_id(plan.plan_id, version.version),
                    plan_id=plan.plan_id,
                    name=f"{plan.name} v{version.version}",
                    throttle=throttle_of(plan),
                    quota=quota_of(plan, version),
                )
            )
    return sorted(built, key=lambda p: p.plan_version_id)


def build_desired(
    product: Product,
    plans: Iterable[Plan],
    versions: Mapping[str, Iterable[PlanVersion]],
    subscriptions: Iterable[Subscription],
    usage_identifiers: Mapping[str, str],
    target: Mapping[str, Any],
) -> DesiredGateway:
    """What Tollgate would push for ``product``. ``usage_identifiers`` maps subscription id → its identifier;
    a subscription without one (or on a version that is not PUBLISHED) gets no key."""
    gw_plans = gateway_plans(product.product_id, plans, versions)
    published = {p.plan_version_id for p in gw_plans}
    keys = []
    for sub in subscriptions:
        pv = plan_version_id(sub.plan.plan_id, sub.plan.version)
        identifier = usage_identifiers.get(sub.subscription_id)
        if pv not in published or identifier is None:
            continue
        keys.append(
            GatewayKey(
                subscription_id=sub.subscription_id,
                plan_version_id=pv,
                customer_id=sub.customer_id,
                usage_identifier=identifier,
                enabled=sub.status in ENABLED_STATUSES,
            )
        )
    return DesiredGateway(
        tenant_id=product.tenant_id,
        product_id=product.product_id,
        product_name=product.name,
        plans=tuple(gw_plans),
        keys=tuple(sorted(keys, key=lambda k: k.subscription_id)),
        target=dict(target),
    )


def subscriptions_needing_keys(
    product_id: str,
    plans: Iterable[Plan],
    versions: Mapping[str, Iterable[PlanVersion]],
    subscriptions: Iterable[Subscription],
) -> list[Subscription]:
    """The subscriptions on the product's PUBLISHED versions (each needs a usage identifier)."""
    published = {p.plan_version_id for p in gateway_plans(product_id, plans, versions)}
    return [s for s in subscriptions if plan_version_id(s.plan.plan_id, s.plan.version) in published]
