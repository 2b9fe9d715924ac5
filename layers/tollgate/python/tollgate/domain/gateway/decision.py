"""The decision engine: one answer per (snapshot, policy, increments, now), in this order:

1. key missing / wrong scheme (401 ``KEY_MISSING``), unknown or revoked key (403 ``KEY_INVALID``);
2. no subscription (``NO_SUBSCRIPTION``), a CANCELLED or EXPIRED one (``SUBSCRIPTION_INACTIVE``);
3. payment (never on a free plan): first payment never made (``PAYMENT_REQUIRED``), overdue past the
   grace period (``PAYMENT_OVERDUE``), an uncollectible invoice (``INVOICE_UNCOLLECTIBLE``);
4. entitlements: a meter not in the plan (``FEATURE_NOT_FOUND``), a hard limit the increment would
   pass (``USAGE_LIMIT_REACHED``; a soft limit never blocks), a boolean feature off
   (``FEATURE_UNAVAILABLE``), a prepaid customer's empty wallet (``NO_CREDIT_AVAILABLE``);
5. the plan's rate limit (429 ``RATE_LIMITED``; counted by the caller, which passes ``rate_retry_after``);
6. allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.clock import to_rfc3339
from tollgate.domain.gateway import codes
from tollgate.domain.gateway.codes import Denial
from tollgate.domain.gateway.grace import grace_ends_at
from tollgate.domain.gateway.policy import Policy
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState
from tollgate.domain.money import plain

INACTIVE = ("CANCELLED", "EXPIRED")
PORTAL_HINT = (
    "Each subscription has its own key, and a regenerated or revoked key stops working: the customer finds "
    "its active key in the developer portal (its subscription's keys)."
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    denial: Denial | None = None
    meters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def status(self, policy: Policy | None) -> int:
        if self.denial is None:
            return 200
        override = policy.error_overrides.get(self.denial.code.code) if policy else None
        return (override.status if override and override.status else None) or self.denial.code.status

    def problem(self, policy: Policy | None) -> dict[str, Any] | None:
        if self.denial is None:
            return None
        override = policy.error_overrides.get(self.denial.code.code) if policy else None
        return self.denial.problem(self.status(policy), override.extra if override else None)

    def headers(self) -> dict[str, str]:
        if self.denial is None or self.denial.retry_after is None:
            return {}
        return {"Retry-After": str(self.denial.retry_after)}


def missing_key(header: str, scheme: str) -> Decision:
    how = f"'{header}: {scheme} <key>'" if scheme else f"'{header}: <key>'"
    return Decision(False, Denial(codes.KEY_MISSING, f"No API key was sent, or not in the expected form: send {how}."))


def _key_invalid(snapshot: AccessSnapshot | None) -> Denial:
    if snapshot is None:
        what = "This API key is not valid for this API: it is unknown (check for typos)."
    else:
        what = (
            f"This API key ({snapshot.key_display}) is not valid for this API: {snapshot.key_note or 'it was revoked'}."
        )
    return Denial(codes.KEY_INVALID, f"{what} {PORTAL_HINT}")


def _subscription(s: AccessSnapshot) -> Denial | None:
    if s.subscription_id is None:
        return Denial(
            codes.NO_SUBSCRIPTION,
            f"Customer {s.customer_id} has no subscription: subscribe to a plan (even a free tier) to use this API.",
        )
    if s.subscription_status in INACTIVE:
        return Denial(
            codes.SUBSCRIPTION_INACTIVE,
            f"Subscription {s.subscription_id} is {s.subscription_status}: subscribe again to use this API.",
            {"subscription_status": s.subscription_status},
        )
    return None


def _payment(s: AccessSnapshot, now: datetime) -> Denial | None:
    if s.free:
        return None
    if s.payment_required:
        return Denial(
            codes.PAYMENT_REQUIRED,
            f"The first payment of subscription {s.subscription_id} was never made: add a payment method and pay "
            "the open invoice to start using this API.",
        )
    if s.overdue_since is not None:
        ends = grace_ends_at(s.overdue_since, s.grace_days)
        if now >= ends:
            return Denial(
                codes.PAYMENT_OVERDUE,
                "Payment is overdue. Please update your payment method.",
                {
                    "overdue_since": to_rfc3339(s.overdue_since),
                    "grace_period_days": s.grace_days,
                    "grace_ends_at": to_rfc3339(ends),
                },
            )
    if s.uncollectible:
        return Denial(
            codes.INVOICE_UNCOLLECTIBLE,
            f"An invoice of subscription {s.subscription_id} is uncollectible: settle it to restore access.",
        )
    return None


def meter_views(s: AccessSnapshot, names: list[str], now: datetime, used: Mapping[str, Decimal]) -> dict[str, dict]:
    views = {}
    for name in names:
        m = s.meters.get(name)
        if m is None:
            continue
        current = used.get(name, m.used_at(now))
        resets = m.resets_at(now)
        views[name] = {
            "limit": plain(m.limit) if m.limit is not None else None,
            "used": plain(current),
            "remaining": plain(max(m.limit - current, Decimal(0))) if m.limit is not None else None,
            "hard": m.hard,
            "resets_at": to_rfc3339(resets) if resets else None,
        }
    return views


def _seconds_until(when: datetime, now: datetime) -> int:
    return max(1, int((when - now).total_seconds() + 0.999))


def _entitlements(
    s: AccessSnapshot,
    policy: Policy | None,
    increments: Mapping[str, Decimal],
    now: datetime,
    used: Mapping[str, Decimal],
) -> Denial | None:
    plan = s.plan_name or s.plan_id
    for name, inc in increments.items():
        m = s.meters.get(name)
        if m is None:
            return Denial(
                codes.FEATURE_NOT_FOUND,
                f"Meter '{name}' is not part of plan {plan}, and this route needs it: "
                "upgrade to a plan that includes it.",
                {"meter": name},
            )
        current = used.get(name, m.used_at(now))
        if m.hard and m.limit is not None and current + inc > m.limit:
            resets = m.resets_at(now)
            when = f"it resets at {to_rfc3339(resets)}" if resets else "it does not reset"
            return Denial(
                codes.USAGE_LIMIT_REACHED,
                f"Usage limit reached for meter '{name}': {plain(current)} of {plain(m.limit)} used, and this request "
                f"needs {plain(inc)}; {when}. Upgrade the plan for a higher limit.",
                {
                    "meter": name,
                    "limit": plain(m.limit),
                    "used": plain(current),
                    "increment": plain(inc),
                    "resets_at": to_rfc3339(resets) if resets else None,
                },
                _seconds_until(resets, now) if resets else None,
            )
    for feature in policy.features if policy else ():
        if feature not in s.features:
            return Denial(
                codes.FEATURE_UNAVAILABLE,
                f"Feature '{feature}' is not available on plan {plan}: upgrade to a plan that includes it.",
                {"feature": feature},
            )
    if s.prepaid and (s.wallet_balance is None or s.wallet_balance <= 0):
        balance = plain(s.wallet_balance or Decimal(0))
        return Denial(
            codes.NO_CREDIT_AVAILABLE,
            f"The prepaid balance is used up ({balance} {s.currency}): top up the wallet to continue.",
            {"balance": balance, "currency": s.currency},
        )
    return None


def _rate_limited(s: AccessSnapshot, retry_after: int) -> Denial:
    requests, window = s.rate_limit or (0, 1)
    per = "second" if window == 1 else "minute" if window == 60 else f"{window} seconds"
    return Denial(
        codes.RATE_LIMITED,
        f"Rate limit exceeded: the plan allows {requests} requests per {per}. This is the plan's rate limit, "
        f"not the usage quota (which is not used up): retry after {retry_after} seconds.",
        {"limit": str(requests), "window_seconds": window},
        retry_after,
    )


def decide(
    snapshot: AccessSnapshot | None,
    policy: Policy | None,
    increments: Mapping[str, Decimal],
    now: datetime,
    *,
    used: Mapping[str, Decimal] | None = None,
    rate_retry_after: int | None = None,
) -> Decision:
    """The decision for a key whose snapshot is ``snapshot`` (None: no such key). ``used`` replaces the
    snapshot's usage of a meter (strict mode's counter); ``rate_retry_after`` says the plan's rate limit
    was hit (the caller counts requests)."""
    if snapshot is None or snapshot.key_state is not KeyState.ACTIVE:
        return Decision(False, _key_invalid(snapshot))
    used = used or {}
    views = meter_views(snapshot, list(increments), now, used)
    denial = (
        _subscription(snapshot)
        or _payment(snapshot, now)
        or _entitlements(snapshot, policy, increments, now, used)
        or (_rate_limited(snapshot, rate_retry_after) if rate_retry_after is not None else None)
    )
    return Decision(denial is None, denial, views)
