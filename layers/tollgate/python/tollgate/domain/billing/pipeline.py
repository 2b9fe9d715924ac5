"""The billing pipeline as a list of pure stages (the shape of OpenMeter's rating code: pre-calculation
-> pricer -> post-calculation mutators).

The use case gathers every input first (``BillingInputs``: the subscription, its customer, the plan
versions, the metered usage, the credit notes, the wallet, the settings), then runs:

1. ``RATING`` -- the pricer: usage lines (the pricing engine), recurring fees, pending charges
   (prorations), the minimum-commitment true-up, then late usage of earlier invoiced periods
   (``tollgate.domain.billing.late_usage``);
2. ``PRE_TAX`` -- mutators on the subtotal: the subscription's discount, then credit notes;
3. tax -- ``tax_request`` says what to ask; the use case calls the tax provider (I/O, a timeout) and
   ``with_tax`` adds its lines;
4. ``POST_TAX`` -- mutators on the total: the prepaid wallet;
5. ``drafted_invoice`` -- the invoice with its lines, totals and usage attribution.

Every stage is a function ``(inputs, bill) -> bill`` with no I/O, so a preview (upcoming invoice), a
bill run and a retry differ only by the inputs they gather.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.attribution import attribution
from tollgate.domain.billing.credit_notes import CreditNote, apply_credit_notes
from tollgate.domain.billing.discounts import discount_line
from tollgate.domain.billing.errors import BillingErrorCode, UsageInvalid
from tollgate.domain.billing.fees import (
    charge_lines,
    due_charges,
    fee_lines,
    fees_covering,
    minimum_commitment_line,
)
from tollgate.domain.billing.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind, totals_of
from tollgate.domain.billing.late_usage import LateUsage, late_usage_line
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import BUILTIN, TaxMode, TaxRequest, TaxResult, tax_lines
from tollgate.domain.billing.usage import UsageAggregate, usage_line
from tollgate.domain.billing.wallets import Wallet, apply_wallet, is_prepaid
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.catalog.plans import PlanVersion, UsagePrice
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import Subscription

ZERO = Decimal(0)
Charge = tuple[str, str, str]  # (description, amount, at) of a pending charge


@dataclass(frozen=True)
class MeteredUsage:
    """One usage price of the plan with its meter and the usage read for [start, end)."""

    usage_price: UsagePrice
    meter: Meter
    aggregate: UsageAggregate
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BillingInputs:
    """Everything the stages read: gathered by the use case, never changed by a stage."""

    invoice_id: str
    subscription: Subscription
    customer: Customer
    period: Period
    now: datetime
    version: PlanVersion  # the plan in effect during the period (usage, fees in arrears)
    next_version: PlanVersion | None  # the next period's (fees in advance); None when the subscription ends
    next_period: Period | None
    usage: tuple[MeteredUsage, ...]
    credit_notes: tuple[CreditNote, ...]
    wallet: Wallet | None
    settings: BillingSettings
    existing: Invoice | None = None
    preview: bool = False
    late_usage: tuple[LateUsage, ...] = ()  # earlier invoiced periods and their usage now

    @property
    def currency(self) -> str:
        return self.subscription.currency


@dataclass(frozen=True)
class Bill:
    """The bill as the stages build it: its lines and what it consumes."""

    lines: tuple[InvoiceLine, ...] = ()
    charges_now: tuple[Charge, ...] = ()  # pending charges billed on this invoice
    charges_later: tuple[Charge, ...] = ()  # pending charges kept for a later one
    credit_notes: tuple[CreditNote, ...] = ()  # as they are after this invoice consumed them
    wallet: Wallet | None = None  # after the burn (None: untouched)
    warnings: tuple[str, ...] = ()

    def plus(self, *lines: InvoiceLine | None, **changes: Any) -> Bill:
        return replace(self, lines=(*self.lines, *(ln for ln in lines if ln is not None)), **changes)


Stage = Callable[[BillingInputs, Bill], Bill]


# -- rating (the pricer) ----------------------------------------------------------------------------------


def rate_usage(inputs: BillingInputs, bill: Bill) -> Bill:
    """One line per usage price, rated by the pricing engine; usage it refuses is USAGE_INVALID."""
    return bill.plus(*(_usage_line(inputs, u) for u in inputs.usage))


def _usage_line(inputs: BillingInputs, u: MeteredUsage) -> InvoiceLine:
    try:
        return usage_line(u.usage_price, u.meter, u.aggregate, u.start, u.end)
    except (InvalidInput, ArithmeticError) as exc:
        reason = exc.detail if isinstance(exc, InvalidInput) else f"{type(exc).__name__} in exact arithmetic"
        raise UsageInvalid(
            f"The pricing engine refused the usage of meter {u.meter.meter_id} for "
            f"{to_rfc3339(u.start)} to {to_rfc3339(u.end)} (aggregated quantity {_shown(u.aggregate.quantity)}: "
            f"{reason}). Correct the usage events, then retry the invoice "
            f"(POST /v1/invoices/{inputs.invoice_id}/retry).",
            meter_id=u.meter.meter_id,
        ) from exc


def _shown(quantity: Decimal) -> str:
    """The quantity for a message, bounded (a huge exponent is shown as it is, never expanded)."""
    text = str(quantity)
    return text if len(text) <= 40 else text[:37] + "..."


def recurring_fees(inputs: BillingInputs, bill: Bill) -> Bill:
    sub, period = inputs.subscription, inputs.period
    fees = fee_lines(
        version=inputs.version,
        period=period,
        next_version=inputs.next_version,
        next_period=inputs.next_period,
        first_period=period.start <= sub.started_at,
        trial_end=sub.trial_end,
    )
    return bill.plus(*fees)


def pending_charges(inputs: BillingInputs, bill: Bill) -> Bill:
    """The subscription's pending charges dated before the period end (prorations of upgrades...)."""
    now, later = due_charges(inputs.subscription.pending_charges, inputs.period.end)
    return bill.plus(*charge_lines(now, inputs.currency), charges_now=tuple(now), charges_later=tuple(later))


def minimum_commitment(inputs: BillingInputs, bill: Bill) -> Bill:
    usage = sum((ln.amount for ln in bill.lines if ln.kind is LineKind.USAGE), ZERO)
    counted = usage + fees_covering(inputs.version, inputs.period, inputs.subscription.trial_end)
    minimum = inputs.version.content.minimum_commitment
    return bill.plus(minimum_commitment_line(minimum, counted, inputs.currency, inputs.period))


def rate_late_usage(inputs: BillingInputs, bill: Bill) -> Bill:
    """Usage that reached an earlier invoiced period after it was finalized (``late_usage``): a line per
    period and meter, the increment of that period's amount. After the minimum commitment, which is
    this period's."""
    return bill.plus(*(_late_usage_line(inputs, late) for late in inputs.late_usage))


def _late_usage_line(inputs: BillingInputs, late: LateUsage) -> InvoiceLine | None:
    try:
        return late_usage_line(late)
    except (InvalidInput, ArithmeticError) as exc:
        reason = exc.detail if isinstance(exc, InvalidInput) else f"{type(exc).__name__} in exact arithmetic"
        raise UsageInvalid(
            f"The pricing engine refused the late usage of meter {late.meter.meter_id} for the period of invoice "
            f"{late.billed.invoice_id} (aggregated quantity {_shown(late.now.quantity)}: {reason}). Correct the "
            f"usage events, then retry the invoice (POST /v1/invoices/{inputs.invoice_id}/retry).",
            meter_id=late.meter.meter_id,
        ) from exc


# -- before tax ---------------------------------------------------------------------------------------------


def discount(inputs: BillingInputs, bill: Bill) -> Bill:
    """The subscription's coupon, on the subtotal."""
    if inputs.subscription.discount is None:
        return bill
    return bill.plus(discount_line(inputs.subscription.discount, totals_of(bill.lines).subtotal, inputs.currency))


def credit_notes(inputs: BillingInputs, bill: Bill) -> Bill:
    """Credit left on the customer's credit notes, oldest first, up to what is left of the total."""
    available = max(totals_of(bill.lines).total, ZERO)
    lines, consumed = apply_credit_notes(list(inputs.credit_notes), inputs.invoice_id, available)
    return bill.plus(*lines, credit_notes=tuple(consumed))


# -- tax (the use case calls the provider) ------------------------------------------------------------------


def tax_request(inputs: BillingInputs, bill: Bill) -> TaxRequest | None:
    """What to ask the tax provider, or None when the tenant charges no tax."""
    settings = inputs.settings
    if settings.tax_mode is TaxMode.NONE and settings.tax_provider == BUILTIN:
        return None
    return TaxRequest(
        tenant_id=inputs.subscription.tenant_id,
        invoice_id=inputs.invoice_id,
        customer_id=inputs.customer.customer_id,
        customer_metadata=dict(inputs.customer.metadata),
        currency=inputs.currency,
        mode=settings.tax_mode,
        rates=settings.tax_rates,
        taxable_amount=taxable(bill),
        lines=bill.lines,
    )


def taxable(bill: Bill) -> Decimal:
    return max(totals_of(bill.lines).total, ZERO)


def with_tax(bill: Bill, result: TaxResult | None) -> Bill:
    return bill if result is None else bill.plus(*tax_lines(result, taxable(bill)))


# -- after tax ----------------------------------------------------------------------------------------------


def prepaid_wallet(inputs: BillingInputs, bill: Bill) -> Bill:
    """The prepaid wallet pays what it can (all of it for a prepaid customer, or WALLET_INSUFFICIENT_FUNDS;
    a preview warns instead)."""
    wallet, total = inputs.wallet, totals_of(bill.lines).total
    prepaid = is_prepaid(inputs.customer)
    warnings = bill.warnings
    if inputs.preview and prepaid and total > (wallet.balance if wallet else ZERO):
        code = BillingErrorCode.WALLET_INSUFFICIENT_FUNDS.value
        warnings += (f"{code}: the prepaid wallet cannot cover {plain(total)} {inputs.currency} yet.",)
        prepaid = False
    line, burnt = apply_wallet(wallet, total, prepaid=prepaid, invoice_id=inputs.invoice_id, at=inputs.now)
    return bill.plus(line, wallet=burnt, warnings=warnings)


RATING: tuple[Stage, ...] = (recurring_fees, rate_usage, pending_charges, minimum_commitment, rate_late_usage)
PRE_TAX: tuple[Stage, ...] = (discount, credit_notes)
POST_TAX: tuple[Stage, ...] = (prepaid_wallet,)


def run_stages(stages: tuple[Stage, ...], inputs: BillingInputs, bill: Bill) -> Bill:
    for stage in stages:
        bill = stage(inputs, bill)
    return bill


def before_tax(inputs: BillingInputs) -> Bill:
    """The rating and pre-tax stages: the bill up to the tax."""
    return run_stages(PRE_TAX, inputs, run_stages(RATING, inputs, Bill()))


def after_tax(inputs: BillingInputs, bill: Bill, tax: TaxResult | None) -> Bill:
    return run_stages(POST_TAX, inputs, with_tax(bill, tax))


# -- the invoice --------------------------------------------------------------------------------------------


def drafted_invoice(inputs: BillingInputs, bill: Bill) -> Invoice:
    """The invoice the bill makes (status as it was, DRAFT for a new one; finalizing is the use case's)."""
    totals = totals_of(bill.lines)
    existing, now, version = inputs.existing, inputs.now, inputs.version
    return Invoice(
        invoice_id=inputs.invoice_id,
        tenant_id=inputs.subscription.tenant_id,
        customer_id=inputs.customer.customer_id,
        subscription_id=inputs.subscription.subscription_id,
        currency=inputs.currency,
        period_start=inputs.period.start,
        period_end=inputs.period.end,
        status=existing.status if existing else InvoiceStatus.DRAFT,
        created_at=existing.created_at if existing else now,
        updated_at=now,
        plan_id=version.plan_id,
        plan_version=version.version,
        lines=bill.lines,
        totals=totals,
        attribution=_attribution(inputs, bill),
        attempts=(existing.attempts if existing else 0) + 1,
        consumed_charges=bill.charges_now,
        revision=existing.revision if existing else 0,
    )


def _attribution(inputs: BillingInputs, bill: Bill) -> dict[str, Any]:
    attr = attribution(bill.lines, totals_of(bill.lines))
    attr["period"] = {"start": to_rfc3339(inputs.period.start), "end": to_rfc3339(inputs.period.end)}
    attr["plan"] = {"plan_id": inputs.version.plan_id, "version": inputs.version.version}
    following = inputs.next_version
    if following is not None and following is not inputs.version:
        attr["next_period_plan"] = {"plan_id": following.plan_id, "version": following.version}
    if bill.warnings:
        attr["warnings"] = list(bill.warnings)
    return attr
