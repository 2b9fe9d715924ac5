"""The invoice document: what a printed invoice shows, as text, before any rendering (pure; no PDF here).

``invoice_document`` turns an invoice, the tenant's "Settings -> Finance" (legal name, address), the customer and
the credit notes issued against the invoice into an ``InvoiceDocument``: every amount already written in the
currency's format (ISO 4217 minor units, thousands separators, the currency code: ``USD 1,234.50``,
``JPY 1,200``), computed with ``Decimal`` only. A renderer (``tollgate.ports.documents.InvoiceRenderer``) lays it
out; the PDF adapter is ``tollgate.adapters.pdf``.

Sections:

- ``lines``: fees, usage (quantity, and the unit price of a single-rate price; a tiered price lists its tiers as
  detail rows), prorations, the minimum-commitment true-up;
- ``adjustments``: the coupon discount and the credit carried from earlier credit notes (negative amounts; the
  wallet is in the totals: it pays the invoice, it does not change it);
- ``taxes``: one per rate (an inclusive tax says it is included);
- ``credit_notes``: credit notes issued against this invoice after it was finalized;
- ``totals``: subtotal, discounts, credit, tax, total, then what reduced the amount due (wallet, credit notes,
  payments) and the amount due.

A DRAFT invoice is marked DRAFT (its amounts may still change), a VOID one VOID, an UNCOLLECTIBLE one
UNCOLLECTIBLE, a PAID one PAID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind
from tollgate.domain.errors import Conflict
from tollgate.domain.money import money_text

ZERO = Decimal(0)
ITEM_KINDS = (LineKind.FEE, LineKind.USAGE, LineKind.PRORATION, LineKind.MINIMUM_COMMITMENT)
ADJUSTMENT_KINDS = (LineKind.DISCOUNT, LineKind.CREDIT_NOTE)
#: The stamp shown across an invoice in this state (none for FINALIZED: a plain, issued invoice).
STAMPS = {
    InvoiceStatus.DRAFT: "DRAFT",
    InvoiceStatus.VOID: "VOID",
    InvoiceStatus.UNCOLLECTIBLE: "UNCOLLECTIBLE",
    InvoiceStatus.PAID: "PAID",
}


@dataclass(frozen=True)
class Issuer:
    """Who issues the invoice: the tenant's legal name and postal address (Settings -> Finance)."""

    name: str
    address: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str | None = None
    reference: str = ""  # the tenant's own id of the customer (external_id)


@dataclass(frozen=True)
class DocumentLine:
    """One row of the lines table; ``detail`` rows (a tier of a tiered price) are indented under their line."""

    description: str
    quantity: str = ""
    unit_price: str = ""
    amount: str = ""
    detail: bool = False


@dataclass(frozen=True)
class DocumentAmount:
    label: str
    amount: str
    emphasis: bool = False


@dataclass(frozen=True)
class InvoiceDocument:
    issuer: Issuer
    recipient: Recipient
    invoice_number: str
    status: str
    stamp: str | None
    currency: str
    period: str
    dates: tuple[DocumentAmount, ...]  # (label, date) pairs: issued, due, paid, voided
    lines: tuple[DocumentLine, ...]
    adjustments: tuple[DocumentAmount, ...]
    taxes: tuple[DocumentAmount, ...]
    credit_notes: tuple[DocumentAmount, ...]
    totals: tuple[DocumentAmount, ...]

    @property
    def title(self) -> str:
        return f"Invoice {self.invoice_number}"


def money_display(amount: Decimal | str, currency: str) -> str:
    """``USD 1,234.50``: the currency's minor units (more digits only when the amount has them, as a unit
    price of 0.005 USD), thousands separators, the ISO code first. Decimal only."""
    try:
        text = money_text(amount, currency)
    except ArithmeticError:
        return f"{currency} {amount}"
    return f"{currency} {Decimal(text):,f}"


def quantity_display(value: Any) -> str:
    """A quantity with thousands separators (``12,500``, ``0.25``); not a number: shown as it is."""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not number.is_finite():
        return str(value)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return f"{number:,f}"


def _day(value: Any) -> str:
    return value.date().isoformat() if value is not None else ""


def _item_rows(line: InvoiceLine, currency: str) -> list[DocumentLine]:
    """The row of a fee, usage, proration or true-up line, and a usage price's tiers as detail rows."""
    amount = money_display(line.amount, currency)
    details = line.details
    if line.kind is LineKind.FEE:
        unit = details.get("unit_amount")
        return [DocumentLine(line.description, "1", money_display(unit, currency) if unit else amount, amount)]
    if line.kind is not LineKind.USAGE:
        return [DocumentLine(line.description, "1", amount, amount)]
    quantity = quantity_display(details.get("quantity", ""))
    breakdown = [b for b in details.get("breakdown") or () if isinstance(b, dict)]
    unit_price = ""
    if len(breakdown) == 1 and breakdown[0].get("unit_amount") is not None:
        unit_price = money_display(breakdown[0]["unit_amount"], currency)
    rows = [DocumentLine(line.description, quantity, unit_price, amount)]
    included = details.get("included_units")
    if included not in (None, "", "0"):
        rows.append(DocumentLine(f"Included units: {quantity_display(included)}", detail=True))
    if len(breakdown) > 1:
        rows.extend(_tier_row(tier, currency) for tier in breakdown)
    return rows


def _tier_row(tier: dict[str, Any], currency: str) -> DocumentLine:
    label = f"Tier {tier['tier']}" if tier.get("tier") is not None else "Part"
    unit = tier.get("unit_amount")
    flat = tier.get("flat_amount")
    if flat not in (None, "", "0") and Decimal(str(flat)) != 0:
        label += f" (flat {money_display(flat, currency)})"
    return DocumentLine(
        label,
        quantity_display(tier.get("units", "")),
        money_display(unit, currency) if unit is not None else "",
        money_display(tier.get("amount", "0"), currency),
        detail=True,
    )


def _tax_row(line: InvoiceLine, currency: str) -> DocumentAmount:
    """``VAT 20% on USD 2,469.00``: the line's description (name and rate) and the amount it taxes."""
    label = line.description
    rate = line.details.get("rate_percent")
    if rate is not None and "%" not in label:
        label += f" {quantity_display(rate)}%"
    taxable = line.details.get("taxable_amount")
    if taxable not in (None, ""):
        label += f" on {money_display(taxable, currency)}"
    if line.details.get("inclusive") and "included" not in label:
        label += " (included)"
    return DocumentAmount(label, money_display(line.amount, currency))


def _credit_rows(notes: Iterable[CreditNote], currency: str) -> tuple[DocumentAmount, ...]:
    rows = []
    for note in sorted(notes, key=lambda n: (n.created_at, n.credit_note_id)):
        reason = f": {note.reason}" if note.reason else ""
        rows.append(
            DocumentAmount(
                f"Credit note {note.credit_note_id} ({_day(note.created_at)}){reason}",
                money_display(-note.amount, currency),
            )
        )
    return tuple(rows)


def _totals(invoice: Invoice) -> tuple[DocumentAmount, ...]:
    t, c = invoice.totals, invoice.currency
    rows = [DocumentAmount("Subtotal", money_display(t.subtotal, c))]
    optional = (
        ("Discounts", -t.discounts),
        ("Credit", -(t.credit_notes - t.credited)),
        ("Tax (included)" if t.tax_inclusive else "Tax", t.tax),
    )
    rows += [DocumentAmount(label, money_display(value, c)) for label, value in optional if value != 0]
    rows.append(DocumentAmount("Total", money_display(t.total, c), emphasis=True))
    settled = (("Paid from wallet", t.wallet), ("Credit notes applied", t.credit_applied), ("Paid", t.paid))
    rows += [DocumentAmount(label, money_display(-value, c)) for label, value in settled if value != 0]
    rows.append(DocumentAmount("Amount due", money_display(t.amount_due, c), emphasis=True))
    return tuple(rows)


def _dates(invoice: Invoice) -> tuple[DocumentAmount, ...]:
    pairs = (
        ("Issued", invoice.finalized_at or (invoice.created_at if invoice.status is InvoiceStatus.DRAFT else None)),
        ("Due", invoice.due_at),
        ("Paid", invoice.paid_at),
        ("Voided", invoice.voided_at),
        ("Written off", invoice.uncollectible_at),
    )
    return tuple(DocumentAmount(label, _day(value)) for label, value in pairs if value is not None)


def invoice_document(
    invoice: Invoice,
    *,
    issuer: Issuer,
    recipient: Recipient,
    credit_notes: Iterable[CreditNote] = (),
) -> InvoiceDocument:
    """The printable form of ``invoice``. A FAILED invoice is no document (nothing was billed): Conflict."""
    if invoice.status is InvoiceStatus.FAILED:
        raise Conflict(
            f"Invoice {invoice.invoice_id} is FAILED ({invoice.error_code or 'billing failed'}): it has no lines to "
            f"print. Retry it with POST /v1/invoices/{invoice.invoice_id}/retry, then download it again.",
            code="INVOICE_NOT_PRINTABLE",
            state=invoice.status.value,
        )
    c = invoice.currency
    lines = [row for ln in invoice.lines if ln.kind in ITEM_KINDS for row in _item_rows(ln, c)]
    adjustments = [
        DocumentAmount(ln.description, money_display(ln.amount, c))
        for ln in invoice.lines
        if ln.kind in ADJUSTMENT_KINDS
    ]
    return InvoiceDocument(
        issuer=issuer,
        recipient=recipient,
        invoice_number=invoice.invoice_id,
        status=invoice.status.value,
        stamp=STAMPS.get(invoice.status),
        currency=c,
        period=f"{_day(invoice.period_start)} to {_day(invoice.period_end)}",
        dates=_dates(invoice),
        lines=tuple(lines),
        adjustments=tuple(adjustments),
        taxes=tuple(_tax_row(ln, c) for ln in invoice.lines if ln.kind is LineKind.TAX),
        credit_notes=_credit_rows([n for n in credit_notes if n.invoice_id == invoice.invoice_id], c),
        totals=_totals(invoice),
    )
