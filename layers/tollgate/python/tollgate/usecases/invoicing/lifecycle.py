"""What happens to invoices after billing: listing, voiding, marking paid or uncollectible.

- **Void** (FINALIZED, UNCOLLECTIBLE, DRAFT or FAILED -> VOID) gives back what the invoice took from
  the prepaid wallet and from credit notes, in the same write. The period stays billed: a voided
  invoice is never recreated by a bill run (issue a new charge by other means).
- **Mark paid** records a payment of the amount due; **mark uncollectible** writes the debt off. An
  invoice paid or voided outside the payment flow ends its subscription's PAST_DUE when no other invoice
  of it is overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.events import invoice_event
from tollgate.domain.billing.invoices import Invoice, InvoiceAction, InvoiceStatus, LineKind
from tollgate.domain.billing.wallets import Wallet
from tollgate.domain.errors import InvalidInput
from tollgate.domain.money import plain
from tollgate.domain.paging import Page
from tollgate.domain.retry import retry_on_conflict
from tollgate.ports.billing import BillingWrite
from tollgate.usecases.billing import BillingRepos, get_invoice

ZERO = Decimal(0)


def list_invoices(
    repos: BillingRepos,
    tenant_id: str,
    *,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Invoice]:
    try:
        wanted = InvoiceStatus(status) if status else None
    except ValueError:
        raise InvalidInput(
            f"status must be one of {', '.join(s.value for s in InvoiceStatus)}", field="status"
        ) from None
    return repos.invoices.page_invoices(
        tenant_id, customer_id=customer_id, subscription_id=subscription_id, status=wanted, limit=limit, cursor=cursor
    )


def reconcile(repos: BillingRepos, invoice: Invoice) -> None:
    """A settled invoice may end its subscription's PAST_DUE (tollgate.usecases.payments)."""
    from tollgate.usecases.payments import reconcile_subscription

    reconcile_subscription(repos.invoices, repos.subscriptions, invoice.tenant_id, invoice.subscription_id)


GivenBack = tuple[Decimal, tuple[Wallet, int] | None, list[tuple[CreditNote, int | None]]]


def _given_back(repos: BillingRepos, invoice: Invoice, now: datetime) -> GivenBack:
    """What voiding ``invoice`` gives back: (wallet amount, the wallet topped up, the credit notes restored)."""
    burnt = -sum((ln.amount for ln in invoice.lines if ln.kind is LineKind.WALLET), ZERO)
    if invoice.status is InvoiceStatus.DRAFT:  # a draft consumed nothing
        return burnt, None, []
    wallet: tuple[Wallet, int] | None = None
    wallet_ids = {ln.details["wallet_id"] for ln in invoice.lines if ln.kind is LineKind.WALLET}
    if burnt:
        current = repos.wallets.get_wallet(invoice.tenant_id, next(iter(wallet_ids)))
        if current is not None:
            wallet = (current.topped_up(burnt, now), current.revision)
    notes: list[tuple[CreditNote, int | None]] = []
    for note_id in {ln.details["credit_note_id"] for ln in invoice.lines if ln.kind is LineKind.CREDIT_NOTE}:
        note = repos.credit_notes.get_credit_note(invoice.tenant_id, note_id)
        if note is not None:
            notes.append((note.restored(invoice.invoice_id), note.revision))
    return burnt, wallet, notes


def void_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> Invoice:
    """VOID, giving back the wallet burn and the credit-note credit the invoice consumed."""

    def void() -> Invoice:
        invoice = get_invoice(repos, tenant_id, invoice_id)
        now = repos.clock()
        voided = invoice.moved(InvoiceAction.VOID, now, voided_at=now)  # 409 naming the state if illegal
        burnt, wallet, notes = _given_back(repos, invoice, now)
        event = invoice_event("invoice.voided", voided, now, "voided", wallet_restored=plain(burnt))
        repos.invoices.commit(BillingWrite(voided, invoice.revision, notes, wallet, None, [event]))
        return voided

    voided = retry_on_conflict(void, exhausted=f"Invoice {invoice_id} kept changing; retry.")
    reconcile(repos, voided)
    return voided


def _simple_move(
    repos: BillingRepos,
    tenant_id: str,
    invoice_id: str,
    action: InvoiceAction,
    event_type: str,
    **changes_for: Callable[[Invoice, datetime], Any],
) -> Invoice:
    def move() -> Invoice:
        invoice = get_invoice(repos, tenant_id, invoice_id)
        now = repos.clock()
        moved = invoice.moved(action, now, **{k: v(invoice, now) for k, v in changes_for.items()})
        event = invoice_event(event_type, moved, now, action.value)
        repos.invoices.commit(BillingWrite(moved, invoice.revision, events=[event]))
        return moved

    moved = retry_on_conflict(move, exhausted=f"Invoice {invoice_id} kept changing; retry.")
    if moved.status is InvoiceStatus.PAID:
        reconcile(repos, moved)
    return moved


def mark_uncollectible(repos: BillingRepos, tenant_id: str, invoice_id: str) -> Invoice:
    return _simple_move(
        repos,
        tenant_id,
        invoice_id,
        InvoiceAction.MARK_UNCOLLECTIBLE,
        "invoice.marked_uncollectible",
        uncollectible_at=lambda inv, now: now,
    )


def mark_paid(repos: BillingRepos, tenant_id: str, invoice_id: str) -> Invoice:
    """Record a payment of the whole amount due (paid outside Tollgate, or by the payment flow)."""
    return _simple_move(
        repos,
        tenant_id,
        invoice_id,
        InvoiceAction.PAY,
        "invoice.paid",
        paid_at=lambda inv, now: now,
        totals=lambda inv, now: replace(inv.totals, paid=inv.totals.paid + inv.amount_due),
    )
