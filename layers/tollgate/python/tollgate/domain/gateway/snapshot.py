"""The access snapshot of one customer key: everything a decision reads, in one stored item.

It is rebuilt from the key, the customer, its subscription, plan version, payments, wallet and usage
whenever one of them changes, and its ``used`` figures follow the usage aggregator. A decision made from
it needs nothing else (``tollgate.domain.gateway.decision``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain


class KeyState(StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class MeterState:
    """A meter of the subscription's plan: its entitlement (``limit`` None: no limit) and the usage of
    the current period (``period_end`` None: never resets)."""

    meter_id: str
    used: Decimal = Decimal(0)
    limit: Decimal | None = None
    hard: bool = False
    reset: str = "PERIODIC"
    period_start: datetime | None = None
    period_end: datetime | None = None

    def used_at(self, now: datetime) -> Decimal:
        """Past the period end the usage counts from zero again (until the snapshot is rebuilt)."""
        if self.reset == "PERIODIC" and self.period_end is not None and now >= self.period_end:
            return Decimal(0)
        return self.used

    def resets_at(self, now: datetime) -> datetime | None:
        if self.reset != "PERIODIC" or self.period_end is None or now >= self.period_end:
            return None
        return self.period_end

    def to_json(self) -> dict[str, Any]:
        return {
            "meter_id": self.meter_id,
            "used": plain(self.used),
            "limit": plain(self.limit) if self.limit is not None else None,
            "hard": self.hard,
            "reset": self.reset,
            "period_start": to_rfc3339(self.period_start) if self.period_start else None,
            "period_end": to_rfc3339(self.period_end) if self.period_end else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MeterState:
        return cls(
            meter_id=d["meter_id"],
            used=Decimal(d["used"]),
            limit=Decimal(d["limit"]) if d.get("limit") is not None else None,
            hard=bool(d.get("hard")),
            reset=d.get("reset") or "PERIODIC",
            period_start=parse_rfc3339(d["period_start"]) if d.get("period_start") else None,
            period_end=parse_rfc3339(d["period_end"]) if d.get("period_end") else None,
        )


@dataclass(frozen=True)
class AccessSnapshot:
    tenant_id: str
    key_id: str
    key_state: KeyState
    built_at: datetime
    key_display: str = ""
    key_note: str = ""  # why a revoked key was revoked
    customer_id: str | None = None
    subscription_id: str | None = None
    subscription_status: str | None = None
    plan_id: str | None = None
    plan_name: str = ""
    free: bool = False  # no payment required (a plan without any price)
    payment_required: bool = False  # a paid plan whose first payment was never made
    overdue_since: datetime | None = None
    grace_days: int = 3
    uncollectible: bool = False
    meters: dict[str, MeterState] = field(default_factory=dict)  # by meter event name
    features: frozenset[str] = frozenset()
    prepaid: bool = False
    wallet_balance: Decimal | None = None
    currency: str = ""
    rate_limit: tuple[int, int] | None = None  # (requests, window seconds)
    # the subscription's usage identifier at the product's linked gateway (issue 19 sync): what a Lambda
    # authorizer returns as usageIdentifierKey under apiKeySource=AUTHORIZER; None when not synced
    usage_identifier: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "key_id": self.key_id,
            "key_state": self.key_state.value,
            "built_at": to_rfc3339(self.built_at),
            "key_display": self.key_display,
            "key_note": self.key_note,
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "subscription_status": self.subscription_status,
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "free": self.free,
            "payment_required": self.payment_required,
            "overdue_since": to_rfc3339(self.overdue_since) if self.overdue_since else None,
            "grace_days": self.grace_days,
            "uncollectible": self.uncollectible,
            "meters": {name: m.to_json() for name, m in self.meters.items()},
            "features": sorted(self.features),
            "prepaid": self.prepaid,
            "wallet_balance": plain(self.wallet_balance) if self.wallet_balance is not None else None,
            "currency": self.currency,
            "rate_limit": list(self.rate_limit) if self.rate_limit else None,
            "usage_identifier": self.usage_identifier,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AccessSnapshot:
        rate = d.get("rate_limit")
        return cls(
            tenant_id=d["tenant_id"],
            key_id=d["key_id"],
            key_state=KeyState(d["key_state"]),
            built_at=parse_rfc3339(d["built_at"]),
            key_display=d.get("key_display", ""),
            key_note=d.get("key_note", ""),
            customer_id=d.get("customer_id"),
            subscription_id=d.get("subscription_id"),
            subscription_status=d.get("subscription_status"),
            plan_id=d.get("plan_id"),
            plan_name=d.get("plan_name", ""),
            free=bool(d.get("free")),
            payment_required=bool(d.get("payment_required")),
            overdue_since=parse_rfc3339(d["overdue_since"]) if d.get("overdue_since") else None,
            grace_days=int(d.get("grace_days", 3)),
            uncollectible=bool(d.get("uncollectible")),
            meters={name: MeterState.from_json(m) for name, m in (d.get("meters") or {}).items()},
            features=frozenset(d.get("features") or ()),
            prepaid=bool(d.get("prepaid")),
            wallet_balance=Decimal(d["wallet_balance"]) if d.get("wallet_balance") is not None else None,
            currency=d.get("currency", ""),
            rate_limit=(int(rate[0]), int(rate[1])) if rate else None,
            usage_identifier=d.get("usage_identifier") or None,
        )
