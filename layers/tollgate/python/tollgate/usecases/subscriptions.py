"""Subscriptions: subscribe a customer to a published plan version, and every move after that.

Seed 000 ("Subscriptions") and seed 002 (several subscriptions per customer, one key each).

- A subscription pins the plan version it started on; publishing a new version changes nothing for it.
- Cancel (``DELETE /v1/subscriptions/{id}``) works from TRIALING, ACTIVE and PAST_DUE, now or at the
  period end; the keys bound to it are revoked in the same write.
- Upgrade, downgrade and migration to another plan: ``tollgate.usecases.plan_changes``.
- Every time comes from ``repos.clock()`` (the local stack and tests move it).
- A move whose conditional write lost a race (a bill run, a payment or another request saved the
  subscription meanwhile) is read, decided and written again (``retried_on_lost_race``); after three
  lost races it answers 409 CONCURRENT_UPDATE.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ParamSpec, Protocol, TypeVar

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.billing.plan_in_effect import PIN_MOVES
from tollgate.domain.catalog import Plan, PlanVersion, common
from tollgate.domain.catalog.plans import MAX_TRIAL_DAYS, VersionStatus
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.periods import Anchor, Interval
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.subscriptions import (
    APPLY_PENDING_PLAN,
    Action,
    PlanRef,
    Subscription,
    SubscriptionStatus,
    Transition,
    fixed_term_end,
    start_time,
    subscription_event,
)
from tollgate.observability import count
from tollgate.ports import TenancyRepository
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.usecases import customers as customer_cases
from tollgate.usecases.tenancy import IssuedKey, create_api_key

KEY_REVOKED_REASON = "subscription cancelled"
P = ParamSpec("P")
T = TypeVar("T")
_log = logging.getLogger(__name__)


class MigrationLock(Protocol):
    def running_migration(self, tenant_id: str) -> str | None: ...


@dataclass(frozen=True)
class Repos:
    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    catalog: CatalogRepository
    tenancy: TenancyRepository
    migrations: MigrationLock
    clock: Callable[[], datetime] = utcnow


def retried_on_lost_race(move: Callable[P, T]) -> Callable[P, T]:
    """Run a read-decide-write move of a subscription again, on fresh data, when its conditional write
    lost a race (a bill run, a payment or another request saved the subscription in between)."""

    @functools.wraps(move)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return retry_on_conflict(
            lambda: move(*args, **kwargs),
            exhausted="The subscription kept changing while this request was applied; read it again and retry.",
        )

    return run


def get_subscription(repos: Repos, tenant_id: str, subscription_id: str) -> Subscription:
    sub = repos.subscriptions.get(tenant_id, subscription_id) if common.is_identifier(subscription_id) else None
    if sub is None:
        raise NotFound(
            f"Subscription not found: {common.shown(subscription_id)}. Check the id, and that X-Tenant-Id is the "
            "tenant that owns it."
        )
    return sub


def published_version(repos: Repos, tenant_id: str, plan_id: str, version: int | None) -> tuple[Plan, PlanVersion]:
    plan = repos.catalog.get_plan(tenant_id, plan_id)
    if plan is None:
        raise NotFound(f"Plan not found: {plan_id}.")
    number = version if version is not None else plan.current_version
    if number is None:
        raise Conflict(
            f"Plan {plan_id} has no published version yet: publish one (POST /v1/plans/{plan_id}/versions/1/publish).",
            code="PLAN_NOT_PUBLISHED",
        )
    found = repos.catalog.get_version(tenant_id, plan_id, number)
    if found is None:
        raise NotFound(f"Plan {plan_id} has no version {number}.")
    if found.status is not VersionStatus.PUBLISHED:
        raise Conflict(
            f"Plan {plan_id} version {number} is {found.status.value}: only a PUBLISHED version takes subscriptions.",
            code="PLAN_VERSION_NOT_PUBLISHED",
        )
    return plan, found


def _client_fields(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the client chose for a new subscription, judged before anything is read or written."""
    external_id = data.get("external_id")
    trial_days = data.get("trial_days")
    if trial_days is not None:
        trial_days = common.non_negative_int(trial_days, "trial_days", maximum=MAX_TRIAL_DAYS)
    return {
        "started_at": start_time(data.get("start_at"), now),
        "external_id": None if external_id is None else common.external_id(external_id),
        "metadata": common.string_metadata(data.get("metadata")),
        "trial_days": trial_days,
    }


def create_subscription(repos: Repos, tenant_id: str, data: dict[str, Any]) -> Subscription:
    now = repos.clock()
    chosen = _client_fields(data, now)
    if data.get("customer_id"):
        customer = customer_cases.get_customer(repos.customers, tenant_id, data["customer_id"])
    elif data.get("external_customer_id"):
        customer = customer_cases.get_customer_by_external_id(repos.customers, tenant_id, data["external_customer_id"])
    else:
        raise InvalidInput("Name the customer: customer_id or external_customer_id.", field="customer_id")
    plan, version = published_version(repos, tenant_id, data["plan_id"], data.get("version"))
    if plan.currency != customer.currency:
        raise Conflict(
            f"Plan {plan.plan_id} is priced in {plan.currency} but customer {customer.customer_id} pays in "
            f"{customer.currency}: "
            "subscribe them to the plan offered in their currency (one plan per currency).",
            code="CURRENCY_MISMATCH",
        )
    started = chosen["started_at"]
    trial_days = chosen["trial_days"] if chosen["trial_days"] is not None else (plan.trial_days or 0)
    sub = Subscription(
        subscription_id=new_id("sub"),
        tenant_id=tenant_id,
        customer_id=customer.customer_id,
        plan=PlanRef(plan.plan_id, version.version),
        status=SubscriptionStatus.TRIALING if trial_days > 0 else SubscriptionStatus.ACTIVE,
        started_at=started,
        interval=Interval(plan.billing_interval.value),
        anchor=Anchor(data.get("anchor") or Anchor.ANNIVERSARY.value),
        timezone=customer.timezone,
        currency=plan.currency,
        external_id=chosen["external_id"],
        trial_end=started + timedelta(days=trial_days) if trial_days > 0 else None,
        metadata=chosen["metadata"],
        version=1,
        plan_moves=0,
    )
    sub = replace(sub, end_at=fixed_term_end(sub, data.get("end_at"), data.get("periods")))
    history = [Transition(now, "CREATED", None, sub.status, {"plan_id": plan.plan_id, "plan_version": version.version})]
    repos.subscriptions.create(sub, [subscription_event("subscription.created", sub, now)], history)
    return sub


def save_move(
    repos: Repos,
    before: Subscription,
    after: Subscription,
    action: str,
    events: list[str],
    *,
    revoke: bool = False,
    **detail: Any,
) -> Subscription:
    after = replace(after, version=before.version + 1)
    if action in PIN_MOVES and before.plan_moves is not None:
        after = replace(after, plan_moves=before.plan_moves + 1)
    now = repos.clock()
    history = [Transition(now, action, before.status, after.status, {k: v for k, v in detail.items() if v is not None})]
    repos.subscriptions.save(
        after,
        expected_version=before.version,
        events=[
            subscription_event(e, after, now, **{k: v for k, v in detail.items() if isinstance(v, str | int)})
            for e in events
        ],
        history=history,
        revoke_keys_reason=KEY_REVOKED_REASON if revoke else None,
    )
    return after


@retried_on_lost_race
def cancel_subscription(
    repos: Repos, tenant_id: str, subscription_id: str, *, at_period_end: bool = False
) -> Subscription:
    sub = get_subscription(repos, tenant_id, subscription_id)
    now = repos.clock()
    if at_period_end:
        if not sub.live:
            sub.moved(Action.CANCEL)  # raises the 409 naming the state
        if sub.cancel_at_period_end:
            return sub
        return save_move(
            repos,
            sub,
            replace(sub, cancel_at_period_end=True),
            "CANCEL_AT_PERIOD_END",
            ["subscription.cancel_scheduled"],
        )
    after = sub.moved(Action.CANCEL, cancelled_at=now, ended_at=now, cancel_at_period_end=False, pending_plan=None)
    return save_move(repos, sub, after, Action.CANCEL.value, ["subscription.cancelled"], revoke=True)


def mint_subscription_key(
    repos: Repos, caller: Caller, subscription_id: str, *, name: str = "", livemode: bool = True
) -> IssuedKey:
    """A customer API key bound to this subscription (seed 002: each subscription has its own key)."""
    sub = get_subscription(repos, caller.tenant_id, subscription_id)
    if not sub.live:
        raise Conflict(
            f"Subscription {subscription_id} is {sub.status.value}: a cancelled or expired subscription gets no keys; "
            "the customer must subscribe again.",
            code="SUBSCRIPTION_TERMINAL",
        )
    return create_api_key(
        repos.tenancy,
        caller,
        kind=KeyKind.CUSTOMER,
        customer_id=sub.customer_id,
        subscription_id=sub.subscription_id,
        name=name,
        livemode=livemode,
    )


@dataclass(frozen=True)
class ClockPage:
    """One page of the subscription clock: how many due moves it read, which it applied, which failed."""

    read: int
    applied: list[dict[str, str]]
    failed: list[dict[str, str]]


def apply_due_transitions(repos: Repos, now: datetime | None = None, limit: int = 100) -> ClockPage:
    """Run the timed moves whose time has come (the subscription clock). Idempotent: a move already
    made (or no longer due) is skipped, and its due marker is cleared by the save. A move that fails for
    any other reason (an unreadable item, a rejected write) fails alone: it is logged and counted
    (``SubscriptionClockFailures``), stays due for the next tick, and every other move goes on."""
    now = now or repos.clock()
    due = repos.subscriptions.due_transitions(now, limit)
    applied, failed = [], []
    for marker, tenant_id, subscription_id, action in due:
        move = {"tenant_id": tenant_id, "subscription_id": subscription_id, "action": action}
        try:
            if _apply_due(repos, now, marker, tenant_id, subscription_id, action):
                applied.append(move)
        except Conflict:
            continue  # changed meanwhile: the next tick sees the new state
        except Exception:
            _log.exception("due move %s of subscription %s failed", action, subscription_id)
            count("SubscriptionClockFailures")
            failed.append(move)
    return ClockPage(len(due), applied, failed)


def _apply_due(repos: Repos, now: datetime, marker: str, tenant_id: str, subscription_id: str, action: str) -> bool:
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None or not sub.live:
        repos.subscriptions.discard_due(marker)
        return False
    if (
        action == Action.END_TRIAL.value
        and sub.status is SubscriptionStatus.TRIALING
        and sub.trial_end
        and sub.trial_end <= now
    ):
        save_move(repos, sub, sub.moved(Action.END_TRIAL), Action.END_TRIAL.value, ["subscription.activated"])
    elif action == Action.EXPIRE.value and sub.end_at is not None and sub.end_at <= now:
        after = sub.moved(Action.EXPIRE, ended_at=sub.end_at, cancel_at_period_end=False, pending_plan=None)
        save_move(repos, sub, after, Action.EXPIRE.value, ["subscription.expired"], revoke=True)
    elif action == Action.CANCEL.value and sub.cancel_at_period_end:
        after = sub.moved(Action.CANCEL, cancelled_at=now, ended_at=now, cancel_at_period_end=False, pending_plan=None)
        save_move(repos, sub, after, Action.CANCEL.value, ["subscription.cancelled"], revoke=True)
    elif action == APPLY_PENDING_PLAN and sub.pending_plan is not None:
        after = sub.moved(Action.CHANGE_PLAN, plan=sub.pending_plan, pending_plan=None)
        save_move(
            repos,
            sub,
            after,
            "PLAN_CHANGED_AT_PERIOD_END",
            ["subscription.plan_changed"],
            to_plan=sub.pending_plan.plan_id,
            to_version=sub.pending_plan.version,
        )
    else:
        repos.subscriptions.discard_due(marker)  # no longer applies (e.g. the trial was cancelled)
        return False
    return True


@retried_on_lost_race
def apply_discount(repos: Repos, coupons: Any, tenant_id: str, subscription_id: str, coupon_id: str) -> Subscription:
    """Give the subscription the coupon's discount from its next invoice on (it replaces any other)."""
    from tollgate.domain.billing.discounts import discount_of
    from tollgate.usecases.discounts import get_coupon

    sub = get_subscription(repos, tenant_id, subscription_id)
    coupon = get_coupon(coupons, tenant_id, coupon_id)
    if not sub.live:
        sub.moved(Action.CHANGE_PLAN)  # the 409 naming the terminal state
    if coupon.currency is not None and coupon.currency != sub.currency:
        raise Conflict(
            f"Coupon {coupon_id} takes {coupon.amount_off} {coupon.currency} off, but subscription {subscription_id} "
            "is billed in "
            f"{sub.currency}: use a coupon in {sub.currency} or a percent_off coupon.",
            code="CURRENCY_MISMATCH",
        )
    after = replace(sub, discount=discount_of(coupon, repos.clock()))
    return save_move(repos, sub, after, "DISCOUNT_APPLIED", ["subscription.discount_applied"], coupon_id=coupon_id)


@retried_on_lost_race
def remove_discount(repos: Repos, tenant_id: str, subscription_id: str) -> Subscription:
    sub = get_subscription(repos, tenant_id, subscription_id)
    if sub.discount is None:
        raise NotFound(f"Subscription {subscription_id} has no discount.")
    return save_move(
        repos,
        sub,
        replace(sub, discount=None),
        "DISCOUNT_REMOVED",
        ["subscription.discount_removed"],
        coupon_id=sub.discount.coupon_id,
    )
