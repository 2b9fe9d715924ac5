"""A subscription as its main-table item and back, and the keys of its timed moves (the subscription
clock's due index). Kept apart from the repository (``subscriptions.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from tollgate.adapters.dynamodb.codec import (
    dt,
    plain_json,
    required_dt,
    ts,
    without_none,
)
from tollgate.adapters.dynamodb.keys import (
    billing_due_gsi2pk,
    billing_due_gsi2sk,
    customer_subscriptions_gsi1pk,
    due_transition_marker,
    subscription_key,
)
from tollgate.domain.periods import Anchor, Interval
from tollgate.domain.subscriptions import PlanRef, Subscription, SubscriptionStatus, scheduled_moves

if TYPE_CHECKING:
    from tollgate.domain.billing.discounts import Discount


def subscription_item(s: Subscription) -> dict[str, Any]:
    return without_none(
        {
            **subscription_key(s.tenant_id, s.subscription_id),
            "item_type": "SUBSCRIPTION",
            "gsi1pk": customer_subscriptions_gsi1pk(s.tenant_id, s.customer_id),
            "gsi1sk": s.subscription_id,
            "subscription_id": s.subscription_id,
            "tenant_id": s.tenant_id,
            "customer_id": s.customer_id,
            "plan_id": s.plan.plan_id,
            "plan_version": s.plan.version,
            "status": s.status.value,
            "started_at": ts(s.started_at),
            "interval": s.interval.value,
            "anchor": s.anchor.value,
            "timezone": s.timezone,
            "currency": s.currency,
            "external_id": s.external_id,
            "trial_end": ts(s.trial_end),
            "cancel_at_period_end": s.cancel_at_period_end,
            "cancelled_at": ts(s.cancelled_at),
            "ended_at": ts(s.ended_at),
            "dunning_attempts": s.dunning_attempts,
            "pending_plan_id": s.pending_plan.plan_id if s.pending_plan else None,
            "pending_plan_version": s.pending_plan.version if s.pending_plan else None,
            "version": s.version,
            "metadata": s.metadata or None,
            "pending_charges": [list(c) for c in s.pending_charges] or None,
            "billed_through": ts(s.billed_through),
            "payment_overdue_since": ts(s.payment_overdue_since),
            "plan_moves": s.plan_moves,
            "discount": s.discount.to_json() if s.discount else None,
            "end_at": ts(s.end_at),
            **due_index(s),
        }
    )


def due_index(s: Subscription) -> dict[str, str]:
    """The sparse due index (gsi2): a subscription is listed under the end of its next billing period."""
    period = s.next_bill_period()
    if period is None:
        return {}
    return {
        "gsi2pk": billing_due_gsi2pk(s.tenant_id, s.subscription_id),
        "gsi2sk": billing_due_gsi2sk(period.end, s.subscription_id),
    }


def subscription_from_item(i: dict[str, Any]) -> Subscription:
    return Subscription(
        subscription_id=i["subscription_id"],
        tenant_id=i["tenant_id"],
        customer_id=i["customer_id"],
        plan=PlanRef(i["plan_id"], int(i["plan_version"])),
        status=SubscriptionStatus(i["status"]),
        started_at=required_dt(i["started_at"]),
        interval=Interval(i["interval"]),
        anchor=Anchor(i["anchor"]),
        timezone=i["timezone"],
        currency=i["currency"],
        external_id=i.get("external_id"),
        trial_end=dt(i.get("trial_end")),
        cancel_at_period_end=bool(i.get("cancel_at_period_end", False)),
        cancelled_at=dt(i.get("cancelled_at")),
        ended_at=dt(i.get("ended_at")),
        end_at=dt(i.get("end_at")),
        dunning_attempts=int(i.get("dunning_attempts", 0)),
        pending_plan=PlanRef(i["pending_plan_id"], int(i["pending_plan_version"]))
        if i.get("pending_plan_id")
        else None,
        version=int(i.get("version", 0)),
        metadata={k: str(v) for k, v in (i.get("metadata") or {}).items()},
        pending_charges=tuple(tuple(c) for c in (i.get("pending_charges") or [])),
        billed_through=dt(i.get("billed_through")),
        payment_overdue_since=dt(i.get("payment_overdue_since")),
        plan_moves=int(i["plan_moves"]) if i.get("plan_moves") is not None else None,
        discount=discount_from(i.get("discount")),
    )


def discount_from(value: dict[str, Any] | None) -> Discount | None:
    if not value:
        return None
    from tollgate.domain.billing.discounts import Discount

    return Discount.from_json(plain_json(value))


def due_keys(s: Subscription, now: datetime) -> list[str]:
    return [due_transition_marker(at, s.tenant_id, s.subscription_id, action) for at, action in scheduled_moves(s, now)]
