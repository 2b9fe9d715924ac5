"""Payments and dunning (seed 000 "Subscription stuck in PAST_DUE"; seed 002 payment overdue, grace
period, Stripe test and live modes). Pure: no I/O.

Collection of one invoice
-------------------------
A FINALIZED invoice is collected by the dunning state machine (one execution per invoice, named by
the invoice id):

- nothing due (wallet, credit notes) -> PAID at once, no charge;
- the customer has no payment method on file -> the invoice waits, unpaid, for a payment outside
  Tollgate (``mark-paid``) or a payment method plus ``retry-payment``; nothing moves to PAST_DUE;
- otherwise attempt 1 is made at once. A decline makes the subscription PAST_DUE (from the first
  failed attempt on, the payment is *overdue*). Retry ``n`` follows attempt ``n`` after
  ``retry_schedule[n-1]`` (default 3, 5 and 7 days: four attempts in all). Success at any attempt ->
  invoice PAID, subscription ACTIVE. A decline at the last attempt -> invoice UNCOLLECTIBLE and the
  subscription CANCELLED (``final_subscription_status``, the default) or left PAST_DUE.
- A provider outage (network, 5xx, rate limit) is not an attempt: it is recorded as an ``error`` and
  tried again after ``PROVIDER_ERROR_RETRY`` (an hour).
- ``POST /v1/subscriptions/{id}/retry-payment`` makes the next attempt now; the schedule continues from
  it. The attempt number is part of the provider's idempotency key (``<invoice id>:<n>``), so a
  repeated attempt (a retried Lambda, a manual retry racing the schedule) charges at most once.

Payment state (what the gateway reads)
--------------------------------------
``paid``: nothing overdue. ``pending``: a payment failed less than the grace period ago (default 3
days; ``max_payment_overdue_days`` in the customer's metadata, else the plan's, else the tenant's
payment settings). ``failed``: overdue for longer than that: access is blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain
from tollgate.domain.payment_settings import DEFAULT_GRACE_PERIOD_DAYS, PaymentSettings

MAX_GRACE_PERIOD_DAYS = 365  # as plans' metadata.max_payment_overdue_days and the tenant's grace_period_days
PROVIDER_ERROR_RETRY = timedelta(hours=1)
MAX_PROVIDER_ERRORS = 24  # in a row: then dunning stops (retry-payment or a new payment method resumes it)


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # counts as an attempt
    ERROR = "error"  # the provider could not be reached or failed: not an attempt


class PaymentState(StrEnum):
    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class PaymentAttempt:
    """One charge of an invoice. ``number`` counts real attempts (declines and successes); provider
    errors carry the number of the attempt they were trying to make."""

    number: int
    at: datetime
    outcome: PaymentOutcome
    amount: Decimal
    trigger: str  # "automatic" (finalization), "dunning" (a scheduled retry), "manual" (retry-payment), "webhook"
    payment_id: str = ""
    payment_method: str = ""
    decline_code: str = ""
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": to_rfc3339(self.at),
            "outcome": self.outcome.value,
            "amount": plain(self.amount),
            "trigger": self.trigger,
            "payment_id": self.payment_id,
            "payment_method": self.payment_method,
            "decline_code": self.decline_code,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PaymentAttempt:
        return cls(
            number=int(d["number"]),
            at=parse_rfc3339(d["at"]),
            outcome=PaymentOutcome(d["outcome"]),
            amount=Decimal(str(d.get("amount", "0"))),
            trigger=d.get("trigger") or "",
            payment_id=d.get("payment_id") or "",
            payment_method=d.get("payment_method") or "",
            decline_code=d.get("decline_code") or "",
            message=d.get("message") or "",
        )


def attempts_made(attempts: tuple[PaymentAttempt, ...]) -> int:
    """Real attempts (declines and successes), not provider errors."""
    return sum(1 for a in attempts if a.outcome is not PaymentOutcome.ERROR)


# -- the dunning plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextAttempt:
    """What the dunning state machine does next: stop (``done``, with the reason) or wait
    ``wait_seconds`` and make attempt ``number``."""

    done: bool
    reason: str = ""
    number: int = 0
    wait_seconds: int = 0
    at: datetime | None = None
    exhausted: bool = False  # every attempt was made and the invoice is still owed: apply the final state


def next_attempt(
    *,
    owed: bool,
    amount_due: Decimal,
    has_payment_method: bool,
    attempts: tuple[PaymentAttempt, ...],
    settings: PaymentSettings,
    now: datetime,
) -> NextAttempt:
    """The next step of an invoice's collection (see the module docstring)."""
    if not owed:
        return NextAttempt(True, "the invoice is no longer owed (paid, void or uncollectible)")
    made = attempts_made(attempts)
    if amount_due <= 0:
        return NextAttempt(False, "nothing due", number=made + 1, at=now)
    if made >= settings.max_attempts:
        return NextAttempt(True, f"all {settings.max_attempts} attempts were made", exhausted=True)
    errors = 0
    for a in reversed(attempts):
        if a.outcome is not PaymentOutcome.ERROR:
            break
        errors += 1
    if errors >= MAX_PROVIDER_ERRORS:
        return NextAttempt(
            True, f"the payment provider failed {errors} times in a row: fix the provider settings, then retry-payment"
        )
    if made == 0 and not has_payment_method and not attempts:
        return NextAttempt(True, "the customer has no payment method on file: the invoice waits for a payment")
    last = attempts[-1] if attempts else None
    if last is None:
        due = now
    elif last.outcome is PaymentOutcome.ERROR:
        due = last.at + PROVIDER_ERROR_RETRY
    else:
        due = last.at + settings.retry_schedule[made - 1]
    wait = max(int((due - now).total_seconds() + 0.999), 0)
    return NextAttempt(False, "scheduled", number=made + 1, wait_seconds=wait, at=max(due, now))


# -- payment state ----------------------------------------------------------------------------------------


def grace_period_days(
    customer_metadata: dict[str, Any], plan_metadata: dict[str, Any], tenant_default: int, key: str
) -> int:
    """The customer's ``max_payment_overdue_days``, else the plan's, else the tenant's default. A value
    that is not a whole number of days from 0 to ``MAX_GRACE_PERIOD_DAYS`` (free-form metadata written
    before it was checked) is passed over, never turned into a date."""
    for meta in (customer_metadata, plan_metadata):
        days = _whole_days(meta.get(key))
        if days is not None:
            return days
    return tenant_default


def _whole_days(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_GRACE_PERIOD_DAYS:
        return value
    return None


@dataclass(frozen=True)
class PaymentStatus:
    state: PaymentState
    overdue_since: datetime | None = None
    grace_period_days: int = DEFAULT_GRACE_PERIOD_DAYS
    grace_ends_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "overdue_since": to_rfc3339(self.overdue_since) if self.overdue_since else None,
            "grace_period_days": self.grace_period_days,
            "grace_ends_at": to_rfc3339(self.grace_ends_at) if self.grace_ends_at else None,
        }


def payment_status(overdue_since: datetime | None, grace_days: int, now: datetime) -> PaymentStatus:
    if overdue_since is None:
        return PaymentStatus(PaymentState.PAID, grace_period_days=grace_days)
    ends = overdue_since + timedelta(days=grace_days)
    state = PaymentState.PENDING if now < ends else PaymentState.FAILED
    return PaymentStatus(state, overdue_since, grace_days, ends)
