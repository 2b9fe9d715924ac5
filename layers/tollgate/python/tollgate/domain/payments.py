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

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain

DEFAULT_RETRY_SCHEDULE = (timedelta(days=3), timedelta(days=5), timedelta(days=7))
DEFAULT_GRACE_PERIOD_DAYS = 3
PROVIDER_ERROR_RETRY = timedelta(hours=1)
MAX_PROVIDER_ERRORS = 24  # in a row: then dunning stops (retry-payment or a new payment method resumes it)
MAX_RETRIES = 10
PROVIDERS = ("sandbox", "stripe")


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # counts as an attempt
    ERROR = "error"  # the provider could not be reached or failed: not an attempt


class FinalStatus(StrEnum):
    CANCELLED = "CANCELLED"
    PAST_DUE = "PAST_DUE"


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


# -- settings ---------------------------------------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$")


def parse_duration(value: Any, field_name: str) -> timedelta:
    """A retry interval: a whole number of days (``3``) or an ISO 8601 duration (``"P3D"``, ``"PT2S"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise InvalidInput(f"{field_name} must be more than 0 days", field=field_name)
        return timedelta(days=value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match or not any(match.groupdict().values()):
        raise InvalidInput(
            f"{field_name} must be a number of days or an ISO 8601 duration such as 'P3D' or 'PT1H'", field=field_name
        )
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    delta = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    if delta <= timedelta(0):
        raise InvalidInput(f"{field_name} must be longer than zero", field=field_name)
    return delta


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if (days or time) else "PT0S"


def _mask(secret: str | None) -> str | None:
    return f"{secret[:6]}…{secret[-4:]}" if secret else None


@dataclass(frozen=True)
class PaymentSettings:
    """A tenant's payment settings (``PUT /v1/payment-settings``).

    - ``provider``: ``sandbox`` (test payment methods, no money moves) or ``stripe``;
    - ``livemode``: whether the tenant's Stripe account is used in live mode; Stripe webhook events of
      the other mode are refused (seed 002: test and live modes do not see each other);
    - ``stripe_secret_key`` / ``webhook_secret``: write-only (shown masked);
    - ``retry_schedule``: the wait before each retry after a failed attempt;
    - ``final_subscription_status``: what the subscription becomes after the last failed attempt;
    - ``grace_period_days``: the tenant's default grace period (plan and customer metadata
      ``max_payment_overdue_days`` override it)."""

    tenant_id: str
    provider: str = "sandbox"
    livemode: bool = False
    stripe_secret_key: str | None = None
    webhook_secret: str | None = None
    retry_schedule: tuple[timedelta, ...] = DEFAULT_RETRY_SCHEDULE
    final_subscription_status: FinalStatus = FinalStatus.CANCELLED
    grace_period_days: int = DEFAULT_GRACE_PERIOD_DAYS
    updated_at: datetime | None = None
    revision: int = 0

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_schedule)

    def to_json(self, *, reveal: bool = True) -> dict[str, Any]:
        """Stored form (``reveal``) or the public form (secrets masked)."""
        show = (lambda s: s) if reveal else _mask
        return {
            "provider": self.provider,
            "livemode": self.livemode,
            "stripe_secret_key": show(self.stripe_secret_key),
            "webhook_secret": show(self.webhook_secret),
            "retry_schedule": [format_duration(d) for d in self.retry_schedule],
            "final_subscription_status": self.final_subscription_status.value,
            "grace_period_days": self.grace_period_days,
            "max_attempts": self.max_attempts,
            "updated_at": to_rfc3339(self.updated_at) if self.updated_at else None,
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, tenant_id: str, d: dict[str, Any]) -> PaymentSettings:
        return cls(
            tenant_id=tenant_id,
            provider=d.get("provider") or "sandbox",
            livemode=bool(d.get("livemode", False)),
            stripe_secret_key=d.get("stripe_secret_key"),
            webhook_secret=d.get("webhook_secret"),
            retry_schedule=tuple(parse_duration(x, "retry_schedule") for x in d.get("retry_schedule") or []),
            final_subscription_status=FinalStatus(d.get("final_subscription_status") or FinalStatus.CANCELLED),
            grace_period_days=int(d.get("grace_period_days", DEFAULT_GRACE_PERIOD_DAYS)),
            updated_at=parse_rfc3339(d["updated_at"]) if d.get("updated_at") else None,
            revision=int(d.get("revision") or 0),
        )


def parse_payment_settings(
    tenant_id: str, data: dict[str, Any], *, current: PaymentSettings, at: datetime
) -> PaymentSettings:
    """Validate a PUT body. Omitted secrets keep their stored value; everything else omitted takes its default."""
    provider = data.get("provider", "sandbox")
    if provider not in PROVIDERS:
        raise InvalidInput(f"provider must be one of {', '.join(PROVIDERS)}", field="provider")
    livemode = data.get("livemode", False)
    if not isinstance(livemode, bool):
        raise InvalidInput("livemode must be true or false", field="livemode")
    secret_key = data.get("stripe_secret_key", current.stripe_secret_key)
    webhook_secret = data.get("webhook_secret", current.webhook_secret)
    if provider == "stripe":
        if not secret_key:
            raise InvalidInput(
                "provider stripe needs stripe_secret_key (sk_test_… or sk_live_…, or a restricted rk_ key)",
                field="stripe_secret_key",
            )
        key_live = "_live_" in secret_key
        if key_live != livemode:
            raise InvalidInput(
                f"stripe_secret_key is a {'live' if key_live else 'test'}-mode key but livemode is {str(livemode).lower()}: "
                "Stripe's test and live modes do not see each other's customers, payments or webhooks.",
                field="stripe_secret_key",
            )
    if webhook_secret is not None and not str(webhook_secret).startswith("whsec_"):
        raise InvalidInput(
            "webhook_secret is the endpoint's signing secret and starts with whsec_", field="webhook_secret"
        )
    raw_schedule = data.get("retry_schedule", [format_duration(d) for d in DEFAULT_RETRY_SCHEDULE])
    if not isinstance(raw_schedule, list) or len(raw_schedule) > MAX_RETRIES:
        raise InvalidInput(f"retry_schedule must be a list of at most {MAX_RETRIES} intervals", field="retry_schedule")
    schedule = tuple(parse_duration(x, f"retry_schedule[{i}]") for i, x in enumerate(raw_schedule))
    try:
        final = FinalStatus(str(data.get("final_subscription_status", FinalStatus.CANCELLED)).upper())
    except ValueError:
        raise InvalidInput(
            "final_subscription_status must be CANCELLED or PAST_DUE", field="final_subscription_status"
        ) from None
    grace = data.get("grace_period_days", DEFAULT_GRACE_PERIOD_DAYS)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 365:
        raise InvalidInput(
            "grace_period_days must be a whole number of days between 0 and 365", field="grace_period_days"
        )
    return PaymentSettings(
        tenant_id=tenant_id,
        provider=provider,
        livemode=livemode,
        stripe_secret_key=secret_key,
        webhook_secret=webhook_secret,
        retry_schedule=schedule,
        final_subscription_status=final,
        grace_period_days=grace,
        updated_at=at,
        revision=current.revision + 1,
    )


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
    """The customer's ``max_payment_overdue_days``, else the plan's, else the tenant's default."""
    for meta in (customer_metadata, plan_metadata):
        if meta.get(key) is not None:
            return int(meta[key])
    return tenant_default


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


# -- sandbox test payment methods -------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxMethod:
    outcome: PaymentOutcome
    decline_code: str = ""
    message: str = ""
    declines_before_success: int = 0  # decline attempts 1..n, then succeed


SANDBOX_METHODS: dict[str, SandboxMethod] = {
    # Named like Stripe's test PaymentMethods.
    "pm_card_visa": SandboxMethod(PaymentOutcome.SUCCEEDED),
    "pm_card_mastercard": SandboxMethod(PaymentOutcome.SUCCEEDED),
    "pm_card_chargeDeclined": SandboxMethod(PaymentOutcome.DECLINED, "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": SandboxMethod(
        PaymentOutcome.DECLINED, "insufficient_funds", "Your card has insufficient funds."
    ),
    "pm_card_chargeDeclinedExpiredCard": SandboxMethod(
        PaymentOutcome.DECLINED, "expired_card", "Your card has expired."
    ),
    # Sandbox only: the provider fails (as if Stripe were down) - not an attempt.
    "pm_sandbox_providerError": SandboxMethod(
        PaymentOutcome.ERROR, "api_error", "The payment provider is unavailable."
    ),
    # Sandbox only: declined at attempts 1 and 2 (insufficient funds), paid at attempt 3.
    "pm_sandbox_declineTwiceThenSucceed": SandboxMethod(
        PaymentOutcome.SUCCEEDED, "insufficient_funds", "Your card has insufficient funds.", declines_before_success=2
    ),
}


def sandbox_outcome(payment_method: str, attempt: int) -> SandboxMethod:
    """What the sandbox provider answers for ``payment_method`` at attempt ``attempt`` (deterministic)."""
    method = SANDBOX_METHODS.get(payment_method)
    if method is None:
        return SandboxMethod(
            PaymentOutcome.DECLINED, "payment_method_unknown", f"No such payment method: {payment_method}."
        )
    if method.declines_before_success and attempt <= method.declines_before_success:
        return replace(method, outcome=PaymentOutcome.DECLINED)
    if method.outcome is PaymentOutcome.SUCCEEDED:
        return SandboxMethod(PaymentOutcome.SUCCEEDED)
    return method
