"""What Tollgate would push to a gateway for one product: provider-neutral, pure data.

Built by the sync use case from the product, its published plan versions and their subscriptions; each
provider renders it into its own resources (``ports.gateway_providers.GatewayProvider.render``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

QuotaPeriod = Literal["DAY", "WEEK", "MONTH"]


@dataclass(frozen=True)
class Throttle:
    """Steady requests per second and burst (from the plan's gateway rate limit)."""

    rate_per_second: int
    burst: int

    def to_json(self) -> dict[str, Any]:
        return {"rate_per_second": self.rate_per_second, "burst": self.burst}


@dataclass(frozen=True)
class Quota:
    """A hard request allowance per period (from the plan version's hard entitlement)."""

    limit: int
    period: QuotaPeriod

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "period": self.period}


@dataclass(frozen=True)
class GatewayPlan:
    """One published plan version as a gateway plan (AWS usage plan, Kong consumer group limits, APIM
    product, Apigee API product)."""

    plan_version_id: str
    plan_id: str
    name: str
    throttle: Throttle | None = None
    quota: Quota | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "plan_version_id": self.plan_version_id,
            "plan_id": self.plan_id,
            "name": self.name,
            "throttle": None if self.throttle is None else self.throttle.to_json(),
            "quota": None if self.quota is None else self.quota.to_json(),
        }


@dataclass(frozen=True)
class GatewayKey:
    """One subscription's access at the gateway. ``usage_identifier`` is Tollgate-generated (Tollgate keeps
    customer keys only as hashes, so it never pushes a key's value); ``enabled`` is False once the
    subscription is no longer ACTIVE/TRIALING/PAST_DUE-within-grace."""

    subscription_id: str
    plan_version_id: str
    customer_id: str
    usage_identifier: str
    enabled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "plan_version_id": self.plan_version_id,
            "customer_id": self.customer_id,
            "usage_identifier": self.usage_identifier,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class DesiredGateway:
    """Everything Tollgate owns at the gateway for one product (sorted by id: rendering is deterministic)."""

    tenant_id: str
    product_id: str
    product_name: str
    plans: tuple[GatewayPlan, ...] = ()
    keys: tuple[GatewayKey, ...] = ()
    target: dict[str, Any] = field(default_factory=dict)  # the link's provider config (api id, stage, service…)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "product_id": self.product_id,
            "product_name": self.product_name,
            "plans": [p.to_json() for p in self.plans],
            "keys": [k.to_json() for k in self.keys],
            "target": dict(self.target),
        }
