"""Credit notes (``tollgate.domain.billing.credit_notes``): created against an issued invoice, applied at
once to its amount due (zero -> PAID), the rest carried to the customer's next invoices."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.attribution import with_credit_note
from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.events import credit_note_created, invoice_event
from tollgate.domain.billing.invoices import Invoice, InvoiceAction, InvoiceStatus
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.money import minor_units, plain, round_money, to_decimal
from tollgate.domain.retry import retry_on_conflict
from tollgate.ports.billing import BillingWrite
from tollgate.usecases.billing import BillingRepos, get_invoice
from tollgate.usecases.invoicing.lifecycle import reconcile

CREDITABLE = frozenset({InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})


def _creditable_amount(invoice: Invoice, raw: Any) -> Decimal:
    """The amount asked for, checked against the invoice (409 when it cannot be credited, 400 if too much)."""
    if invoice.status not in CREDITABLE:
        raise Conflict(
            f"Invoice {invoice.invoice_id} is {invoice.status.value}: credit notes are issued against FINALIZED, "
            "PAID or UNCOLLECTIBLE invoices only.",
            code="INVOICE_NOT_CREDITABLE",
            state=invoice.status.value,
        )
    amount = to_decimal(raw, "amount")
    if amount <= 0:
        raise InvalidInput("amount must be greater than 0", field="amount")
    if round_money(amount, invoice.currency) != amount:
        raise InvalidInput(
            f"amount has more decimals than {invoice.currency} has ({minor_units(invoice.currency)})",
            field="amount",
        )
    if amount > invoice.totals.creditable:
        raise InvalidInput(
            f"amount {plain(amount)} is more than invoice {invoice.invoice_id} can still be credited "
            f"({plain(invoice.totals.creditable)} {invoice.currency}: its total less earlier credit notes)",
            field="amount",
        )
    return amount


def create_credit_note(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> CreditNote:
    """``{"invoice_id", "amount", "reason"?}``: credit an issued invoice (see the module docstring)."""
    invoice_id = data.get("invoice_id")
    if not invoice_id:
        raise InvalidInput("invoice_id is required", field="invoice_id")

    def credit() -> tuple[CreditNote, Invoice]:
        invoice = get_invoice(repos, tenant_id, invoice_id)
        amount = _creditable_amount(invoice, data.get("amount"))
        now = repos.clock()
        absorbed = min(amount, invoice.amount_due)
        note = CreditNote(
            credit_note_id=new_id("cn"),
            tenant_id=tenant_id,
            customer_id=invoice.customer_id,
            invoice_id=invoice_id,
            currency=invoice.currency,
            amount=amount,
            reason=str(data.get("reason") or ""),
            created_at=now,
            applied_to_invoice=absorbed,
            balance=amount - absorbed,
        )
        totals = replace(
            invoice.totals,
            credit_notes=invoice.totals.credit_notes + amount,
            credited=invoice.totals.credited + amount,
            credit_applied=invoice.totals.credit_applied + absorbed,
        )
        attribution = with_credit_note(invoice.attribution, totals, note.credit_note_id)
        updated = replace(
            invoice, totals=totals, attribution=attribution, updated_at=now, revision=invoice.revision + 1
        )
        events = [credit_note_created(note, now)]
        if updated.amount_due == 0 and updated.status is not InvoiceStatus.PAID:
            updated = replace(updated.moved(InvoiceAction.PAY, now, paid_at=now), revision=updated.revision)
            events.append(
                invoice_event(
                    "invoice.paid", updated, now, "paid", paid_by="credit_note", credit_note_id=note.credit_note_id
                )
            )
        repos.invoices.commit(BillingWrite(updated, invoice.revision, [(note, None)], events=events))
        return note, updated

    note, updated = retry_on_conflict(credit, exhausted=f"Invoice {invoice_id} kept changing; retry.")
    if updated.status is InvoiceStatus.PAID:
        reconcile(repos, updated)
    return note


def get_credit_note(
    repos: BillingRepos, tenant_id: str, credit_note_id: str, *, customer_id: str | None = None
) -> CreditNote:
    note = repos.credit_notes.get_credit_note(tenant_id, credit_note_id)
    if note is None or (customer_id is not None and note.customer_id != customer_id):
        raise NotFound(f"Credit note not found: {credit_note_id}.")
    return note
