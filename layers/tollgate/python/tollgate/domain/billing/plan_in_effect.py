"""Which plan version a period is billed at, from the subscription's transition history.

A subscription pins a plan version; upgrades and migrations move the pin at once, downgrades and
scheduled migrations at the end of the period (the subscription clock applies them a few minutes
later). A bill run may therefore see a subscription whose pin already moved for the *next* period.

- The period's usage and in-arrears fees are billed at the version in effect at the end of the
  period: an upgrade or migration during the period applies to the whole period's usage.
- The next period's in-advance fees are billed at the version in effect at its start: a change
  waiting for the period end (``pending_plan``) counts.

A change made by the clock ("PLAN_CHANGED_AT_PERIOD_END") counts from the start of the period in
which the clock made it. Without history (or history lacking plan details) the current pin is used.
"""

from __future__ import annotations

from datetime import datetime

from tollgate.domain.subscriptions import PlanRef, Subscription, Transition

AT_PERIOD_END = "PLAN_CHANGED_AT_PERIOD_END"
# The transitions that move the pin (DOWNGRADE_SCHEDULED / MIGRATION_SCHEDULED only announce a move).
PIN_MOVES = frozenset({"CREATED", "UPGRADED", "MIGRATED", AT_PERIOD_END})


def _ref(t: Transition) -> PlanRef | None:
    if t.action not in PIN_MOVES:
        return None
    d = t.detail or {}
    plan, version = d.get("to_plan") or d.get("plan_id"), d.get("to_version") or d.get("plan_version")
    if plan and version is not None:
        return PlanRef(str(plan), int(version))
    return None


def plan_at(sub: Subscription, history: list[Transition], instant: datetime, *, inclusive: bool) -> PlanRef:
    """The version in effect just before ``instant`` (or at ``instant`` when ``inclusive``)."""
    changes: list[tuple[datetime, PlanRef]] = []
    for t in history:
        ref = _ref(t)
        if ref is None:
            continue
        when = sub.period(t.at).start if t.action == AT_PERIOD_END else t.at
        changes.append((when, ref))
    if not changes:
        return sub.plan
    changes.sort(key=lambda c: c[0])
    current = None
    for when, ref in changes:
        if when < instant or (inclusive and when == instant):
            current = ref
    return current or changes[0][1]


def plans_for_period(sub: Subscription, history: list[Transition], period_end: datetime) -> tuple[PlanRef, PlanRef]:
    """(version for the period's usage and arrears fees, version for the next period's advance fees)."""
    during = plan_at(sub, history, period_end, inclusive=False)
    if sub.pending_plan is not None:
        return during, sub.pending_plan
    return during, plan_at(sub, history, period_end, inclusive=True)


def history_needed(sub: Subscription) -> bool:
    """Whether billing must read the transition history: the pin moved since creation (or that is not
    known), or a cancellation at the period end waits (its request time decides the last period).
    Otherwise the current pin (and ``pending_plan``) say everything the history would."""
    return sub.plan_moves != 0 or sub.cancel_at_period_end
