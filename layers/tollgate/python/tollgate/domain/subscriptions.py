"""The subscription lifecycle (seed 000, "Subscriptions").

A subscription pins one published plan version: later versions of the plan never change its prices.
Its state moves only along this table; any other (state, action) is a Conflict naming the state.

| from \\ action | END_TRIAL | PAYMENT_FAILED | PAYMENT_SUCCEEDED | CANCEL    | EXPIRE  | CHANGE_PLAN |
|---------------|-----------|----------------|-------------------|-----------|---------|-------------|
| TRIALING      | ACTIVE    | -              | -                 | CANCELLED | EXPIRED | TRIALING    |
| ACTIVE        | -         | PAST_DUE       | ACTIVE            | CANCELLED | EXPIRED | ACTIVE      |
| PAST_DUE      | -         | PAST_DUE       | ACTIVE            | CANCELLED | -       | PAST_DUE    |
| CANCELLED     | -         | -              | -                 | -         | -       | -           |
| EXPIRED       | -         | -              | -                 | -         | -       | -           |

CANCELLED and EXPIRED are terminal. CHANGE_PLAN covers upgrade, downgrade and migration.

A new subscription starts now, or at ``start_at``: an RFC 3339 time with an offset, at most one year
back (``MAX_BACKDATE``: the first bill run invoices every period since, at most twelve monthly ones)
and at most one year ahead (``MAX_START_AHEAD``). Anything else is a 422 naming ``start_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tollgate.domain.clock import parse_rfc3339
from tollgate.domain.errors import Conflict, InvalidInput
from tollgate.domain.event_types import SubscriptionData
from tollgate.domain.events import DomainEvent
from tollgate.domain.periods import Anchor, Interval, Period

if TYPE_CHECKING:
    from tollgate.domain.billing.discounts import Discount


class SubscriptionStatus(StrEnum):
    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class Action(StrEnum):
    END_TRIAL = "END_TRIAL"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    CANCEL = "CANCEL"
    EXPIRE = "EXPIRE"
    CHANGE_PLAN = "CHANGE_PLAN"


S, A = SubscriptionStatus, Action
TRANSITIONS: dict[tuple[SubscriptionStatus, Action], SubscriptionStatus] = {
    (S.TRIALING, A.END_TRIAL): S.ACTIVE,
    (S.TRIALING, A.CANCEL): S.CANCELLED,
    (S.TRIALING, A.EXPIRE): S.EXPIRED,
    (S.TRIALING, A.CHANGE_PLAN): S.TRIALING,
    (S.ACTIVE, A.PAYMENT_FAILED): S.PAST_DUE,
    (S.ACTIVE, A.PAYMENT_SUCCEEDED): S.ACTIVE,
    (S.ACTIVE, A.CANCEL): S.CANCELLED,
    (S.ACTIVE, A.EXPIRE): S.EXPIRED,
    (S.ACTIVE, A.CHANGE_PLAN): S.ACTIVE,
    (S.PAST_DUE, A.PAYMENT_FAILED): S.PAST_DUE,
    (S.PAST_DUE, A.PAYMENT_SUCCEEDED): S.ACTIVE,
    (S.PAST_DUE, A.CANCEL): S.CANCELLED,
    (S.PAST_DUE, A.CHANGE_PLAN): S.PAST_DUE,
}
TERMINAL = frozenset({S.CANCELLED, S.EXPIRED})


def transition(status: SubscriptionStatus, action: Action) -> SubscriptionStatus:
    """The state after ``action``, or Conflict naming the current state."""
    target = TRANSITIONS.get((status, action))
    if target is not None:
        return target
    if action is A.CANCEL and status is S.CANCELLED:
        raise Conflict("The subscription is already cancelled.", code="ALREADY_CANCELLED", status_now=status.value)
    if status in TERMINAL:
        raise Conflict(
            f"The subscription is {status.value}, a terminal state: "
            f"it cannot {action.value.lower().replace('_', ' ')}.",
            code="SUBSCRIPTION_TERMINAL",
            status_now=status.value,
        )
    raise Conflict(
        f"A {status.value} subscription cannot {action.value.lower().replace('_', ' ')}.",
        code="ILLEGAL_TRANSITION",
        status_now=status.value,
    )


@dataclass(frozen=True)
class PlanRef:
    plan_id: str
    version: int


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    tenant_id: str
    customer_id: str
    plan: PlanRef
    status: SubscriptionStatus
    started_at: datetime
    interval: Interval
    anchor: Anchor
    timezone: str
    currency: str
    external_id: str | None = None
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    cancelled_at: datetime | None = None
    ended_at: datetime | None = None
    dunning_attempts: int = 0
    pending_plan: PlanRef | None = None  # a downgrade or migration waiting for the period end
    version: int = 0  # optimistic concurrency: each write bumps it
    metadata: dict[str, str] = field(default_factory=dict)
    # Charges and credits not yet invoiced (prorations): (description, amount as a decimal string, at).
    pending_charges: tuple[tuple[str, str, str], ...] = ()
    # Invoiced up to here (the end of the last billed period); None until the first invoice.
    billed_through: datetime | None = None
    # How many times the plan pin moved after creation (upgrade, migration, change at period end); None:
    # unknown (stored before it was counted). Billing reads the transition history only when it is not 0.
    plan_moves: int | None = None
    # The coupon applied to it (tollgate.domain.billing.discounts.Discount): one period used per invoice.
    discount: Discount | None = None
    # Since when a payment is overdue (the first failed attempt of the invoice being dunned); None when paid up.
    payment_overdue_since: datetime | None = None
    # A fixed term: the subscription EXPIRES then (its last period is billed up to it); None: until cancelled.
    end_at: datetime | None = None

    def next_bill_period(self) -> Period | None:
        """The next period to invoice: the one that starts where billing stopped. A cancelled or expired
        subscription gets one last, partial period up to its end; after that, nothing."""
        start = self.billed_through or self.started_at
        if self.live:
            return self.period(start)
        if self.ended_at and start < self.ended_at:
            return Period(self.period(start).start if start < self.ended_at else start, self.ended_at)
        return None

    def period(self, at: datetime) -> Period:
        from tollgate.domain.periods import period_at

        return period_at(self.started_at, max(at, self.started_at), self.interval, self.anchor, self.timezone)

    @property
    def live(self) -> bool:
        return self.status not in TERMINAL

    def moved(self, action: Action, **changes) -> Subscription:
        return replace(self, status=transition(self.status, action), **changes)


@dataclass(frozen=True)
class Transition:
    """One line of a subscription's history."""

    at: datetime
    action: str  # an Action, or CREATED / UPGRADED / DOWNGRADED / MIGRATED
    from_status: SubscriptionStatus | None
    to_status: SubscriptionStatus
    detail: dict = field(default_factory=dict)


APPLY_PENDING_PLAN = "APPLY_PENDING_PLAN"


def scheduled_moves(sub: Subscription, now: datetime) -> list[tuple[datetime, str]]:
    """The timed moves a subscription waits for: its trial end; the end of a fixed term (EXPIRE); at the end
    of the current period, a cancellation requested for then, or a plan change waiting for then."""
    moves: list[tuple[datetime, str]] = []
    if not sub.live:
        return moves
    if sub.status is SubscriptionStatus.TRIALING and sub.trial_end:
        moves.append((sub.trial_end, Action.END_TRIAL.value))
    if sub.end_at is not None:
        moves.append((sub.end_at, Action.EXPIRE.value))
    period_end = sub.period(now).end
    if sub.cancel_at_period_end:
        moves.append((period_end, Action.CANCEL.value))
    elif sub.pending_plan is not None:
        moves.append((period_end, APPLY_PENDING_PLAN))
    return moves


def prorate(old_amount: Decimal, new_amount: Decimal, period: Period, at: datetime) -> Decimal:
    """Proration of a recurring fee changed at ``at`` within ``period``, by the second.

    The unused part of the old fee is credited and the rest of the period is charged at the new fee:
    (new - old) x remaining / period length. Exact Decimal; rounded only on the invoice line. A positive
    result is charged now (upgrade), a negative one is credited (downgrade applied immediately)."""
    total = Decimal((period.end - period.start).total_seconds())
    remaining = Decimal(max((period.end - max(at, period.start)).total_seconds(), 0))
    return (new_amount - old_amount) * remaining / total


def subscription_event(type_: str, sub: Subscription, at: datetime, **data: Any) -> DomainEvent:
    """The domain event of a move of ``sub`` (``subscription.created``, ``subscription.upgraded`` ...),
    its id derived from the subscription's version so a retried write publishes it once. The payload
    carries the state a consumer needs to act on it, the dunning count included (the payment use cases'
    ``subscription.past_due``/``reactivated``/``cancelled`` report it)."""
    payload: SubscriptionData = {
        "subscription_id": sub.subscription_id,
        "customer_id": sub.customer_id,
        "status": sub.status.value,
        "plan_id": sub.plan.plan_id,
        "plan_version": sub.plan.version,
        "dunning_attempts": sub.dunning_attempts,
    }
    return DomainEvent(type_, sub.tenant_id, at, {**payload, **data}).with_id(
        sub.subscription_id, type_, str(sub.version)
    )


MAX_BACKDATE = timedelta(days=365)
MAX_START_AHEAD = timedelta(days=365)
MAX_TERM_PERIODS = 120


def fixed_term_end(sub: Subscription, end_at: object, periods: object) -> datetime | None:
    """The end of a fixed term: ``end_at`` (RFC 3339, after the start, at most 10 years on) or the end of the
    ``periods``-th billing period (1..120); at most one of them. None: no fixed term."""
    if end_at is None and periods is None:
        return None
    if end_at is not None and periods is not None:
        raise InvalidInput(
            "Send end_at or periods, not both: either fixes when the subscription expires.", field="end_at"
        )
    if periods is not None:
        if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= MAX_TERM_PERIODS:
            raise InvalidInput(f"periods must be a whole number from 1 to {MAX_TERM_PERIODS}.", field="periods")
        end = sub.started_at
        for _ in range(periods):
            end = sub.period(end).end
        return end
    rule = "end_at must be an RFC 3339 time with an offset after start_at, at most 10 years after it"
    at: datetime | None = end_at if isinstance(end_at, datetime) and end_at.tzinfo is not None else None
    if isinstance(end_at, str) and len(end_at) <= 64:
        try:
            at = parse_rfc3339(end_at)
        except ValueError:
            at = None
    if at is None or not sub.started_at < at <= sub.started_at + timedelta(days=3660):
        raise InvalidInput(f"{rule}; got {str(end_at)[:64]!r}.", field="end_at")
    return at


def start_time(value: object, now: datetime) -> datetime:
    """When a new subscription starts: ``now`` when ``value`` is None, else an RFC 3339 string (or an
    aware datetime) within ``MAX_BACKDATE`` before and ``MAX_START_AHEAD`` after ``now``."""
    if value is None:
        return now
    rule = (
        f"start_at must be an RFC 3339 time with an offset (e.g. 2026-04-17T10:00:00Z) from "
        f"{MAX_BACKDATE.days} days before to {MAX_START_AHEAD.days} days after now"
    )
    if isinstance(value, datetime) and value.tzinfo is not None:
        at = value
    elif isinstance(value, str) and len(value) <= 64:
        try:
            at = parse_rfc3339(value)
        except ValueError:
            raise InvalidInput(f"{rule}; got {value!r}.", field="start_at") from None
    else:
        raise InvalidInput(f"{rule}.", field="start_at")
    if not now - MAX_BACKDATE <= at <= now + MAX_START_AHEAD:
        raise InvalidInput(f"{rule}; got {value!r}.", field="start_at")
    return at
