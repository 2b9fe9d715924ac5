"""Subscriptions changing plans: upgrade (now, prorated), downgrade (at the period end) and migration
to another plan (now or at the period end, no proration).

- Upgrade: now, with proration of the recurring in-advance fees by the second (``domain.subscriptions.prorate``)
  added to the next invoice. Downgrade: at the end of the current period, no proration.
- Migration moves to *another* plan (its current published version unless one is named), now or at
  the period end, without proration: 409 from CANCELLED/EXPIRED, 409 to the same plan (that is an
  upgrade or downgrade), 409 while a bulk migration runs for the tenant.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tollgate.domain.catalog import Plan, PlanVersion
from tollgate.domain.catalog.plan_prices import FeeTiming
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import Conflict, NotFound
from tollgate.domain.money import plain
from tollgate.domain.periods import Interval
from tollgate.domain.subscriptions import Action, PlanRef, Subscription, prorate
from tollgate.usecases.subscriptions import Repos, get_subscription, published_version, retried_on_lost_race, save_move


def recurring_in_advance(version: PlanVersion) -> Decimal:
    return sum((f.amount for f in version.content.fees if f.timing is FeeTiming.IN_ADVANCE), Decimal(0))


def _target(repos: Repos, sub: Subscription, plan_id: str, version: int | None) -> tuple[Plan, PlanVersion]:
    plan, target = published_version(repos, sub.tenant_id, plan_id, version)
    if plan.currency != sub.currency:
        raise Conflict(
            f"Plan {plan_id} is priced in {plan.currency}, the subscription in {sub.currency}.",
            code="CURRENCY_MISMATCH",
        )
    if Interval(plan.billing_interval.value) is not sub.interval:
        raise Conflict(
            f"Plan {plan_id} bills every {plan.billing_interval.value}, the subscription every {sub.interval.value}: "
            "cancel and subscribe again to change the billing interval.",
            code="INTERVAL_MISMATCH",
        )
    return plan, target


@retried_on_lost_race
def change_plan(
    repos: Repos, tenant_id: str, subscription_id: str, *, plan_id: str, version: int | None, direction: str
) -> tuple[Subscription, Decimal]:
    """Upgrade (now, prorated) or downgrade (at the period end). Returns the subscription and the proration."""
    sub = get_subscription(repos, tenant_id, subscription_id)
    sub.moved(Action.CHANGE_PLAN)  # 409 from CANCELLED / EXPIRED
    plan, target = _target(repos, sub, plan_id, version)
    if PlanRef(plan.plan_id, target.version) == sub.plan:
        raise Conflict(
            f"The subscription is already on plan {plan_id} version {target.version}.", code="SAME_PLAN_VERSION"
        )
    current = repos.catalog.get_version(tenant_id, sub.plan.plan_id, sub.plan.version)
    if current is None:
        raise NotFound(f"Plan {sub.plan.plan_id} version {sub.plan.version}, which the subscription is on, is gone.")
    old_fee, new_fee = recurring_in_advance(current), recurring_in_advance(target)
    if direction == "upgrade" and new_fee < old_fee:
        raise Conflict(
            f"{plan_id} v{target.version} costs less ({plain(new_fee)} < {plain(old_fee)}): use /downgrade.",
            code="NOT_AN_UPGRADE",
        )
    if direction == "downgrade" and new_fee > old_fee:
        raise Conflict(
            f"{plan_id} v{target.version} costs more ({plain(new_fee)} > {plain(old_fee)}): use /upgrade.",
            code="NOT_A_DOWNGRADE",
        )
    now = repos.clock()
    ref = PlanRef(plan.plan_id, target.version)
    if direction == "downgrade":
        after = replace(sub, pending_plan=ref)
        saved = save_move(
            repos,
            sub,
            after,
            "DOWNGRADE_SCHEDULED",
            ["subscription.downgrade_scheduled"],
            to_plan=ref.plan_id,
            to_version=ref.version,
        )
        return saved, Decimal(0)
    period = sub.period(now)
    amount = prorate(old_fee, new_fee, period, now)
    charges = sub.pending_charges
    if amount:
        label = (
            f"Proration {sub.plan.plan_id} v{sub.plan.version} -> {ref.plan_id} v{ref.version} "
            f"({to_rfc3339(now)} to {to_rfc3339(period.end)})"
        )
        charges = (*charges, (label, plain(amount), to_rfc3339(now)))
    after = sub.moved(Action.CHANGE_PLAN, plan=ref, pending_plan=None, pending_charges=charges)
    saved = save_move(
        repos,
        sub,
        after,
        "UPGRADED",
        ["subscription.upgraded"],
        to_plan=ref.plan_id,
        to_version=ref.version,
        proration=plain(amount),
    )
    return saved, amount


@retried_on_lost_race
def migrate_subscription(
    repos: Repos,
    tenant_id: str,
    subscription_id: str,
    *,
    plan_id: str,
    version: int | None,
    at_period_end: bool = False,
    bulk_migration_id: str | None = None,
) -> Subscription:
    sub = get_subscription(repos, tenant_id, subscription_id)
    if not sub.live:
        raise Conflict(
            f"Subscription {subscription_id} is {sub.status.value}: cancelled and expired subscriptions are "
            "terminal and cannot be migrated.",
            code="SUBSCRIPTION_TERMINAL",
            status_now=sub.status.value,
        )
    running = repos.migrations.running_migration(tenant_id)
    if running and running != bulk_migration_id:
        raise Conflict(
            f"Bulk migration {running} is in progress for this tenant; wait for it to complete "
            f"(GET /v1/migrations/{running}).",
            code="BULK_MIGRATION_RUNNING",
        )
    if plan_id == sub.plan.plan_id:
        raise Conflict(
            f"The subscription is already on plan {plan_id}: to move to another version or price of the same plan, use "
            f"POST /v1/subscriptions/{subscription_id}/upgrade or /downgrade.",
            code="SAME_PLAN",
        )
    plan, target = _target(repos, sub, plan_id, version)
    ref = PlanRef(plan.plan_id, target.version)
    if at_period_end:
        return save_move(
            repos,
            sub,
            replace(sub, pending_plan=ref),
            "MIGRATION_SCHEDULED",
            ["subscription.migration_scheduled"],
            to_plan=ref.plan_id,
            to_version=ref.version,
        )
    after = sub.moved(Action.CHANGE_PLAN, plan=ref, pending_plan=None)
    return save_move(
        repos,
        sub,
        after,
        "MIGRATED",
        ["subscription.migrated"],
        to_plan=ref.plan_id,
        to_version=ref.version,
        from_plan=sub.plan.plan_id,
    )
