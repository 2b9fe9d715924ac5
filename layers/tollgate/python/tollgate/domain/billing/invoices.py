"""Invoices: one per subscription and billing period, identified by (tenant, subscription, period start).

The id is ``deterministic_id("inv", tenant, subscription, period start)``: no bill run, re-run, retry
or redelivered message can create a second invoice for the same period, because every write of it
targets the same item and is conditional on the state it replaces.

Lifecycle (``TRANSITIONS``; anything else is a 409 Conflict naming the state)::

    FAILED    --save_draft / finalize / fail / void-->  DRAFT / FINALIZED / FAILED / VOID
    DRAFT     --save_draft / finalize / fail / void-->  DRAFT / FINALIZED / FAILED / VOID
    FINALIZED --pay-->                 PAID
    FINALIZED --void-->                VOID
    FINALIZED --mark_uncollectible-->  UNCOLLECTIBLE
    UNCOLLECTIBLE --pay / void-->      PAID / VOID
    PAID, VOID: terminal.

FAILED is not an invoice yet: it records that the last attempt to bill the period failed (with its
error code), so the invoice can be retried by its id. A FAILED record holds no lines, has consumed
nothing and has charged nobody. DRAFT holds computed lines not yet finalized (``finalize=False``);
billing the period again recomputes it. Only FINALIZED, PAID and UNCOLLECTIBLE invoices are owed.

Amounts: every line amount is rounded once, half-up, to the currency's minor units (the pricing
engine rounds usage; fees, prorations, the minimum-commitment true-up and tax are rounded here);
every total is a sum of rounded lines, so the lines always add up to the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.errors import Conflict
from tollgate.domain.ids import deterministic_id
from tollgate.domain.money import plain
from tollgate.domain.payments import PaymentAttempt, attempts_made

ZERO = Decimal(0)


class InvoiceStatus(StrEnum):
    FAILED = "FAILED"
    DRAFT = "DRAFT"
    FINALIZED = "FINALIZED"
    PAID = "PAID"
    VOID = "VOID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"


class InvoiceAction(StrEnum):
    FAIL = "fail"
    SAVE_DRAFT = "save_draft"
    FINALIZE = "finalize"
    PAY = "pay"
    VOID = "void"
    MARK_UNCOLLECTIBLE = "mark_uncollectible"


S, A = InvoiceStatus, InvoiceAction
TRANSITIONS: dict[tuple[InvoiceStatus, InvoiceAction], InvoiceStatus] = {
    (S.FAILED, A.FAIL): S.FAILED,
    (S.FAILED, A.SAVE_DRAFT): S.DRAFT,
    (S.FAILED, A.FINALIZE): S.FINALIZED,
    (S.FAILED, A.VOID): S.VOID,
    (S.DRAFT, A.FAIL): S.FAILED,
    (S.DRAFT, A.SAVE_DRAFT): S.DRAFT,
    (S.DRAFT, A.FINALIZE): S.FINALIZED,
    (S.DRAFT, A.VOID): S.VOID,
    (S.FINALIZED, A.PAY): S.PAID,
    (S.FINALIZED, A.VOID): S.VOID,
    (S.FINALIZED, A.MARK_UNCOLLECTIBLE): S.UNCOLLECTIBLE,
    (S.UNCOLLECTIBLE, A.PAY): S.PAID,
    (S.UNCOLLECTIBLE, A.VOID): S.VOID,
}
# Issued: the customer owes (or owed) it; billing the period again changes nothing.
ISSUED = frozenset({S.FINALIZED, S.PAID, S.UNCOLLECTIBLE, S.VOID})


def transition(status: InvoiceStatus, action: InvoiceAction, invoice_id: str) -> InvoiceStatus:
    """The state after ``action``, or a Conflict naming the invoice's current state."""
    target = TRANSITIONS.get((status, action))
    if target is not None:
        return target
    allowed = sorted(a.value for (s, a) in TRANSITIONS if s is status)
    raise Conflict(
        f"Invoice {invoice_id} is {status.value}: it cannot {action.value.replace('_', ' ')}"
        + (f" (allowed: {', '.join(allowed)})." if allowed else " (a terminal state)."),
        code="INVALID_INVOICE_TRANSITION",
        state=status.value,
    )


def invoice_id_for(tenant_id: str, subscription_id: str, period_start: datetime) -> str:
    """The one id an invoice of this subscription and period can ever have."""
    return deterministic_id("inv", tenant_id, subscription_id, to_rfc3339(period_start))


class LineKind(StrEnum):
    FEE = "fee"  # a recurring fee (in advance or in arrears)
    USAGE = "usage"  # one per usage price: meter, quantity, included units, tiers
    PRORATION = "proration"  # a pending charge of the subscription (e.g. an upgrade mid-period)
    DISCOUNT = "discount"  # the subscription's coupon (negative), after the subtotal
    MINIMUM_COMMITMENT = "minimum_commitment"  # true-up to the plan's minimum for the period
    CREDIT_NOTE = "credit_note"  # credit carried from a credit note (negative)
    TAX = "tax"  # one per tax rate (an inclusive tax is informative: already in the lines)
    WALLET = "wallet"  # paid from the prepaid wallet (negative; reduces the amount due, not the total)


SUBTOTAL_KINDS = frozenset({LineKind.FEE, LineKind.USAGE, LineKind.PRORATION, LineKind.MINIMUM_COMMITMENT})


@dataclass(frozen=True)
class InvoiceLine:
    """One line. ``amount`` is rounded to the currency's minor units; credits are negative.

    ``details`` is JSON (decimal strings): for usage ``meter_id``, ``quantity``, ``included_units``,
    ``billable_quantity``, ``breakdown`` (the pricing engine's tiers), ``windows``; for fees ``timing``
    and the period the fee covers; for credit notes ``credit_note_id``; for tax ``rate_percent``,
    ``taxable_amount``, ``inclusive``; for the wallet ``wallet_id``."""

    kind: LineKind
    description: str
    amount: Decimal
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "description": self.description, "amount": plain(self.amount), **self.details}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvoiceLine:
        data = dict(data)
        return cls(LineKind(data.pop("kind")), data.pop("description"), Decimal(str(data.pop("amount"))), data)


# The totals an invoice stores (``amount_due`` is derived from them); every one is money in the invoice's currency.
STORED_TOTALS = (
    "subtotal",
    "discounts",
    "credit_notes",
    "tax",
    "total",
    "wallet",
    "credited",
    "credit_applied",
    "paid",
)
TOTAL_FIELDS = (*STORED_TOTALS, "amount_due")


@dataclass(frozen=True)
class InvoiceTotals:
    """Sums of rounded lines.

    - ``subtotal``: fees + usage + prorations + minimum-commitment true-up;
    - ``discounts``: the coupon discount (a positive number, shown as a negative line);
    - ``credit_notes``: credit from credit notes (a positive number): carried onto this invoice as negative
      lines when it was billed, plus the credit notes issued against it after finalization (``credited``,
      which reduce the amount due, not the total);
    - ``tax``: the tax lines (for inclusive tax, the part of the subtotal that is tax);
    - ``total`` = subtotal - discounts - (credit_notes - credited) + exclusive tax: what the invoice was
      worth when finalized;
    - ``wallet``: paid from the prepaid wallet at finalization;
    - ``credited``: credit notes issued against this invoice after it was finalized (all of them);
    - ``credit_applied``: the part of those credit notes that reduced this invoice's amount due (the
      rest went to the credit notes' balances, for later invoices);
    - ``paid``: settled by a payment (``POST /v1/invoices/{id}/mark-paid``, or the payment flow);
    - ``amount_due`` = total - wallet - credit_applied - paid, never below zero.
    """

    subtotal: Decimal = ZERO
    credit_notes: Decimal = ZERO
    discounts: Decimal = ZERO
    tax: Decimal = ZERO
    tax_inclusive: bool = False
    total: Decimal = ZERO
    wallet: Decimal = ZERO
    credited: Decimal = ZERO
    credit_applied: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def amount_due(self) -> Decimal:
        return max(self.total - self.wallet - self.credit_applied - self.paid, ZERO)

    @property
    def creditable(self) -> Decimal:
        """What credit notes may still credit: the total less what they already credited."""
        return max(self.total - self.credited, ZERO)

    def to_json(self) -> dict[str, Any]:
        return {
            "subtotal": plain(self.subtotal),
            "discounts": plain(self.discounts),
            "credit_notes": plain(self.credit_notes),
            "tax": plain(self.tax),
            "tax_inclusive": self.tax_inclusive,
            "total": plain(self.total),
            "wallet": plain(self.wallet),
            "credited": plain(self.credited),
            "credit_applied": plain(self.credit_applied),
            "paid": plain(self.paid),
            "amount_due": plain(self.amount_due),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvoiceTotals:
        return cls(
            **{k: Decimal(str(data.get(k, "0"))) for k in STORED_TOTALS},
            tax_inclusive=bool(data.get("tax_inclusive", False)),
        )


def totals_of(lines: tuple[InvoiceLine, ...] | list[InvoiceLine]) -> InvoiceTotals:
    """The totals of ``lines`` (each already rounded)."""
    subtotal = sum((ln.amount for ln in lines if ln.kind in SUBTOTAL_KINDS), ZERO)
    credit = -sum((ln.amount for ln in lines if ln.kind is LineKind.CREDIT_NOTE), ZERO)
    discounts = -sum((ln.amount for ln in lines if ln.kind is LineKind.DISCOUNT), ZERO)
    taxes = [ln for ln in lines if ln.kind is LineKind.TAX]
    tax = sum((ln.amount for ln in taxes), ZERO)
    inclusive = any(ln.details.get("inclusive") for ln in taxes)
    wallet = -sum((ln.amount for ln in lines if ln.kind is LineKind.WALLET), ZERO)
    total = subtotal - discounts - credit + (ZERO if inclusive else tax)
    return InvoiceTotals(
        subtotal=subtotal,
        discounts=discounts,
        credit_notes=credit,
        tax=tax,
        tax_inclusive=inclusive,
        total=total,
        wallet=wallet,
    )


@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    tenant_id: str
    customer_id: str
    subscription_id: str
    currency: str
    period_start: datetime
    period_end: datetime
    status: InvoiceStatus
    created_at: datetime
    updated_at: datetime
    plan_id: str = ""
    plan_version: int = 0
    lines: tuple[InvoiceLine, ...] = ()
    totals: InvoiceTotals = InvoiceTotals()
    attribution: dict[str, Any] = field(default_factory=dict)
    finalized_at: datetime | None = None
    due_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    uncollectible_at: datetime | None = None
    # Why the last attempt failed (FAILED invoices only; cleared when an attempt succeeds).
    error_code: str | None = None
    error_detail: str | None = None
    attempts: int = 0
    # The subscription's pending charges this invoice consumed (description, amount, at).
    consumed_charges: tuple[tuple[str, str, str], ...] = ()
    revision: int = 0  # bumped by every save; a save is conditional on the revision it replaces
    # Collection (tollgate.domain.payments): every charge attempt, and the provider's payment id.
    payment_attempts: tuple[PaymentAttempt, ...] = ()
    payment_id: str = ""

    @property
    def owed(self) -> bool:
        """Finalized and not settled: what dunning collects."""
        return self.status is InvoiceStatus.FINALIZED

    @property
    def amount_due(self) -> Decimal:
        return self.totals.amount_due

    def moved(self, action: InvoiceAction, at: datetime, **changes: Any) -> Invoice:
        status = transition(self.status, action, self.invoice_id)
        return replace(self, status=status, updated_at=at, revision=self.revision + 1, **changes)

    def to_json(self) -> dict[str, Any]:
        """The public (and stored) form: decimal strings, RFC 3339 times."""

        def t(value: datetime | None) -> str | None:
            return to_rfc3339(value) if value else None

        return {
            "id": self.invoice_id,
            "tenant_id": self.tenant_id,
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "currency": self.currency,
            "period": {"start": t(self.period_start), "end": t(self.period_end)},
            "status": self.status.value,
            "plan_id": self.plan_id,
            "plan_version": self.plan_version,
            "lines": [ln.to_json() for ln in self.lines],
            "totals": self.totals.to_json(),
            "amount_due": plain(self.amount_due),
            "attribution": self.attribution,
            "created_at": t(self.created_at),
            "updated_at": t(self.updated_at),
            "finalized_at": t(self.finalized_at),
            "due_at": t(self.due_at),
            "paid_at": t(self.paid_at),
            "voided_at": t(self.voided_at),
            "uncollectible_at": t(self.uncollectible_at),
            "error_code": self.error_code,
            "error_detail": self.error_detail,
            "attempts": self.attempts,
            "consumed_charges": [list(c) for c in self.consumed_charges],
            "revision": self.revision,
            "payment_attempts": [a.to_json() for a in self.payment_attempts],
            "payment_attempt_count": attempts_made(self.payment_attempts),
            "payment_id": self.payment_id,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Invoice:
        def t(value: str | None) -> datetime | None:
            return parse_rfc3339(value) if value else None

        return cls(
            invoice_id=d["id"],
            tenant_id=d["tenant_id"],
            customer_id=d["customer_id"],
            subscription_id=d["subscription_id"],
            currency=d["currency"],
            period_start=parse_rfc3339(d["period"]["start"]),
            period_end=parse_rfc3339(d["period"]["end"]),
            status=InvoiceStatus(d["status"]),
            created_at=parse_rfc3339(d["created_at"]),
            updated_at=parse_rfc3339(d["updated_at"]),
            plan_id=d.get("plan_id") or "",
            plan_version=int(d.get("plan_version") or 0),
            lines=tuple(InvoiceLine.from_json(ln) for ln in d.get("lines") or []),
            totals=InvoiceTotals.from_json(d.get("totals") or {}),
            attribution=d.get("attribution") or {},
            finalized_at=t(d.get("finalized_at")),
            due_at=t(d.get("due_at")),
            paid_at=t(d.get("paid_at")),
            voided_at=t(d.get("voided_at")),
            uncollectible_at=t(d.get("uncollectible_at")),
            error_code=d.get("error_code"),
            error_detail=d.get("error_detail"),
            attempts=int(d.get("attempts") or 0),
            consumed_charges=tuple((str(c[0]), str(c[1]), str(c[2])) for c in d.get("consumed_charges") or []),
            revision=int(d.get("revision") or 0),
            payment_attempts=tuple(PaymentAttempt.from_json(a) for a in d.get("payment_attempts") or []),
            payment_id=d.get("payment_id") or "",
        )
