"""Coupons and the discounts they give (as in Stripe Billing).

A **coupon** is a reusable offer: ``percent_off`` (0 < p <= 100) or ``amount_off`` in one currency,
for a ``duration``: ``once`` (the next invoice), ``repeating`` (``duration_in_periods`` invoices) or
``forever``. Applying a coupon to a subscription gives it a **discount**: a snapshot of the coupon plus
the invoices it still covers, so later edits of the coupon change no discount already given.

On an invoice the discount is one negative line after the subtotal and before credit notes and tax
(pipeline: subtotal -> discounts -> credit notes -> tax -> wallet): percent of the subtotal, rounded
half-up to the currency's minor units, or the fixed amount, never more than the subtotal. Finalizing the
invoice uses up one period of the discount in the same write as the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import minor_units, plain, round_money, to_decimal

ZERO = Decimal(0)


class Duration(StrEnum):
    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"


@dataclass(frozen=True)
class Coupon:
    coupon_id: str
    tenant_id: str
    name: str
    duration: Duration
    created_at: datetime
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    currency: str | None = None
    duration_in_periods: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.coupon_id,
            "name": self.name,
            "percent_off": plain(self.percent_off) if self.percent_off is not None else None,
            "amount_off": plain(self.amount_off) if self.amount_off is not None else None,
            "currency": self.currency,
            "duration": self.duration.value,
            "duration_in_periods": self.duration_in_periods,
            "created_at": to_rfc3339(self.created_at),
        }

    @classmethod
    def from_json(cls, tenant_id: str, d: dict[str, Any]) -> Coupon:
        return cls(
            coupon_id=d["id"],
            tenant_id=tenant_id,
            name=d.get("name") or "",
            duration=Duration(d["duration"]),
            created_at=parse_rfc3339(d["created_at"]),
            percent_off=Decimal(str(d["percent_off"])) if d.get("percent_off") is not None else None,
            amount_off=Decimal(str(d["amount_off"])) if d.get("amount_off") is not None else None,
            currency=d.get("currency"),
            duration_in_periods=d.get("duration_in_periods"),
        )


def parse_coupon(coupon_id: str, tenant_id: str, data: dict[str, Any], at: datetime) -> Coupon:
    percent, amount = data.get("percent_off"), data.get("amount_off")
    if (percent is None) == (amount is None):
        raise InvalidInput("Give exactly one of percent_off or amount_off.", field="percent_off")
    try:
        duration = Duration(str(data.get("duration") or "once").lower())
    except ValueError:
        raise InvalidInput("duration must be once, repeating or forever", field="duration") from None
    periods = data.get("duration_in_periods")
    if duration is Duration.REPEATING:
        if not isinstance(periods, int) or isinstance(periods, bool) or not 1 <= periods <= 120:
            raise InvalidInput(
                "duration_in_periods (1 to 120 billing periods) is required for a repeating coupon",
                field="duration_in_periods",
            )
    elif periods is not None:
        raise InvalidInput("duration_in_periods is only for a repeating coupon", field="duration_in_periods")
    currency = None
    if percent is not None:
        percent = to_decimal(percent, "percent_off")
        if not ZERO < percent <= 100:
            raise InvalidInput("percent_off must be more than 0 and at most 100", field="percent_off")
    else:
        amount = to_decimal(amount, "amount_off")
        currency = str(data.get("currency") or "").upper()
        if not currency:
            raise InvalidInput("currency is required with amount_off (ISO 4217, e.g. USD)", field="currency")
        minor_units(currency)
        if amount <= 0 or round_money(amount, currency) != amount:
            raise InvalidInput(
                f"amount_off must be more than 0 with at most {minor_units(currency)} decimals in {currency}",
                field="amount_off",
            )
    return Coupon(coupon_id, tenant_id, str(data.get("name") or ""), duration, at, percent, amount, currency, periods)


@dataclass(frozen=True)
class Discount:
    """A coupon applied to a subscription; ``periods_left`` None means forever."""

    coupon_id: str
    name: str
    duration: Duration
    applied_at: datetime
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    currency: str | None = None
    periods_left: int | None = None

    def used_once(self) -> Discount | None:
        """The discount after one invoice: gone after its last period."""
        if self.periods_left is None:
            return self
        return replace(self, periods_left=self.periods_left - 1) if self.periods_left > 1 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "coupon_id": self.coupon_id,
            "name": self.name,
            "duration": self.duration.value,
            "applied_at": to_rfc3339(self.applied_at),
            "percent_off": plain(self.percent_off) if self.percent_off is not None else None,
            "amount_off": plain(self.amount_off) if self.amount_off is not None else None,
            "currency": self.currency,
            "periods_left": self.periods_left,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Discount:
        return cls(
            coupon_id=d["coupon_id"],
            name=d.get("name") or "",
            duration=Duration(d["duration"]),
            applied_at=parse_rfc3339(d["applied_at"]),
            percent_off=Decimal(str(d["percent_off"])) if d.get("percent_off") is not None else None,
            amount_off=Decimal(str(d["amount_off"])) if d.get("amount_off") is not None else None,
            currency=d.get("currency"),
            periods_left=int(d["periods_left"]) if d.get("periods_left") is not None else None,
        )


def discount_of(coupon: Coupon, at: datetime) -> Discount:
    periods = {Duration.ONCE: 1, Duration.REPEATING: coupon.duration_in_periods, Duration.FOREVER: None}[
        coupon.duration
    ]
    return Discount(
        coupon.coupon_id,
        coupon.name,
        coupon.duration,
        at,
        coupon.percent_off,
        coupon.amount_off,
        coupon.currency,
        periods,
    )


def discount_line(discount: Discount, subtotal: Decimal, currency: str) -> InvoiceLine | None:
    """The (negative) discount line for ``subtotal``, or None when there is nothing to discount."""
    if subtotal <= 0:
        return None
    if discount.percent_off is not None:
        amount = round_money(subtotal * discount.percent_off / 100, currency)
        label = f"{plain(discount.percent_off)}% off"
    else:
        if discount.currency != currency:
            return None  # an amount in another currency: the use case refuses applying it, so only old data
        amount = min(discount.amount_off or ZERO, subtotal)
        label = f"{plain(discount.amount_off or ZERO)} {currency} off"
    if amount <= 0:
        return None
    name = discount.name or discount.coupon_id
    return InvoiceLine(
        LineKind.DISCOUNT,
        f"Discount {name} ({label})",
        -amount,
        {"coupon_id": discount.coupon_id, "duration": discount.duration.value, "periods_left": discount.periods_left},
    )
