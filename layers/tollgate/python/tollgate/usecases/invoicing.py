"""What happens to invoices after billing, and the accounts around them: listing, voiding, marking
paid or uncollectible; credit notes; prepaid wallets; the tenant's billing settings.

- **Void** (FINALIZED, UNCOLLECTIBLE, DRAFT or FAILED -> VOID) gives back what the invoice took from
  the prepaid wallet and from credit notes, in the same write. The period stays billed: a voided
  invoice is never recreated by a bill run (issue a new charge by other means).
- **Mark paid** records a payment of the amount due; **mark uncollectible** writes the debt off. An
  invoice paid or voided outside the payment flow ends its subscription's PAST_DUE when no other invoice
  of it is overdue.
- **Credit notes** (``tollgate.domain.billing.credit_notes``): created against an issued invoice, applied
  at once to its amount due (zero -> PAID), the rest carried to the customer's next invoices.
- **Wallets** (``tollgate.domain.billing.wallets``): one per customer and currency; top-ups are
  conditional on the wallet's revision (a lost race is retried).
- **Settings** (``tollgate.domain.billing.settings``): saving a sender asks the email provider to
  verify it (again, if it was verified before).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.invoices import Invoice, InvoiceAction, InvoiceStatus, LineKind
from tollgate.domain.billing.settings import BillingSettings, parse_settings
from tollgate.domain.billing.wallets import Wallet, top_up_amount, wallet_id_for
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.domain.money import minor_units, plain, round_money, to_decimal
from tollgate.ports.billing import BillingWrite, MailRejected
from tollgate.usecases.billing import ATTEMPTS, BillingRepos, _invoice_event, get_invoice

ZERO = Decimal(0)


def list_invoices(
    repos: BillingRepos,
    tenant_id: str,
    *,
    customer_id: str | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Invoice]:
    try:
        wanted = InvoiceStatus(status) if status else None
    except ValueError:
        raise InvalidInput(
            f"status must be one of {', '.join(s.value for s in InvoiceStatus)}", field="status"
        ) from None
    return repos.invoices.list_invoices(
        tenant_id, customer_id=customer_id, subscription_id=subscription_id, status=wanted, limit=limit
    )


def _commit(repos: BillingRepos, write: BillingWrite) -> None:
    repos.invoices.commit(write)


def _reconcile(repos: BillingRepos, invoice: Invoice) -> None:
    """A settled invoice may end its subscription's PAST_DUE (tollgate.usecases.payments)."""
    from tollgate.usecases.payments import reconcile_subscription

    reconcile_subscription(repos.invoices, repos.subscriptions, invoice.tenant_id, invoice.subscription_id)


def void_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> Invoice:
    """VOID, giving back the wallet burn and the credit-note credit the invoice consumed."""
    for _ in range(ATTEMPTS):
        invoice = get_invoice(repos, tenant_id, invoice_id)
        now = repos.clock()
        voided = invoice.moved(InvoiceAction.VOID, now, voided_at=now)  # 409 naming the state if illegal
        wallet = None
        burnt = -sum((ln.amount for ln in invoice.lines if ln.kind is LineKind.WALLET), ZERO)
        wallet_ids = {ln.details["wallet_id"] for ln in invoice.lines if ln.kind is LineKind.WALLET}
        if burnt and invoice.status is not InvoiceStatus.DRAFT:
            current = repos.wallets.get_wallet(tenant_id, next(iter(wallet_ids)))
            if current is not None:
                wallet = (current.topped_up(burnt, now), current.revision)
        notes = []
        if invoice.status is not InvoiceStatus.DRAFT:
            for note_id in {ln.details["credit_note_id"] for ln in invoice.lines if ln.kind is LineKind.CREDIT_NOTE}:
                note = repos.credit_notes.get_credit_note(tenant_id, note_id)
                if note is not None:
                    notes.append((note.restored(invoice_id), note.revision))
        event = _invoice_event("invoice.voided", voided, "voided", wallet_restored=plain(burnt))
        try:
            _commit(repos, BillingWrite(voided, invoice.revision, notes, wallet, None, [event]))
        except Conflict:
            continue
        _reconcile(repos, voided)
        return voided
    raise Conflict(f"Invoice {invoice_id} kept changing; retry.", code="CONCURRENT_UPDATE")


def _simple_move(
    repos: BillingRepos, tenant_id: str, invoice_id: str, action: InvoiceAction, event_type: str, **changes_for
) -> Invoice:
    for _ in range(ATTEMPTS):
        invoice = get_invoice(repos, tenant_id, invoice_id)
        now = repos.clock()
        changes = {k: (v(invoice, now) if callable(v) else v) for k, v in changes_for.items()}
        moved = invoice.moved(action, now, **changes)
        try:
            _commit(
                repos, BillingWrite(moved, invoice.revision, events=[_invoice_event(event_type, moved, action.value)])
            )
        except Conflict:
            continue
        if moved.status is InvoiceStatus.PAID:
            _reconcile(repos, moved)
        return moved
    raise Conflict(f"Invoice {invoice_id} kept changing; retry.", code="CONCURRENT_UPDATE")


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


# -- credit notes -----------------------------------------------------------------------------------------

CREDITABLE = frozenset({InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})


def create_credit_note(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> CreditNote:
    """``{"invoice_id", "amount", "reason"?}``: credit an issued invoice (see the module docstring)."""
    invoice_id = data.get("invoice_id")
    if not invoice_id:
        raise InvalidInput("invoice_id is required", field="invoice_id")
    for _ in range(ATTEMPTS):
        invoice = get_invoice(repos, tenant_id, invoice_id)
        if invoice.status not in CREDITABLE:
            raise Conflict(
                f"Invoice {invoice_id} is {invoice.status.value}: credit notes are issued against FINALIZED, PAID or "
                "UNCOLLECTIBLE invoices only.",
                code="INVOICE_NOT_CREDITABLE",
                state=invoice.status.value,
            )
        amount = to_decimal(data.get("amount"), "amount")
        if amount <= 0:
            raise InvalidInput("amount must be greater than 0", field="amount")
        if round_money(amount, invoice.currency) != amount:
            raise InvalidInput(
                f"amount has more decimals than {invoice.currency} has ({minor_units(invoice.currency)})",
                field="amount",
            )
        if amount > invoice.totals.creditable:
            raise InvalidInput(
                f"amount {plain(amount)} is more than invoice {invoice_id} can still be credited "
                f"({plain(invoice.totals.creditable)} {invoice.currency}: its total less earlier credit notes)",
                field="amount",
            )
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
            credited=invoice.totals.credited + amount,
            credit_applied=invoice.totals.credit_applied + absorbed,
        )
        updated = replace(invoice, totals=totals, updated_at=now, revision=invoice.revision + 1)
        events = [
            DomainEvent(
                "credit_note.created",
                tenant_id,
                now,
                {
                    "credit_note_id": note.credit_note_id,
                    "invoice_id": invoice_id,
                    "customer_id": invoice.customer_id,
                    "amount": plain(amount),
                    "applied_to_invoice": plain(absorbed),
                    "balance": plain(note.balance),
                    "currency": invoice.currency,
                },
            ).with_id(note.credit_note_id, "created")
        ]
        if updated.amount_due == 0 and updated.status is not InvoiceStatus.PAID:
            updated = replace(updated.moved(InvoiceAction.PAY, now, paid_at=now), revision=updated.revision)
            events.append(
                _invoice_event(
                    "invoice.paid", updated, "paid", paid_by="credit_note", credit_note_id=note.credit_note_id
                )
            )
        try:
            _commit(repos, BillingWrite(updated, invoice.revision, [(note, None)], events=events))
        except Conflict:
            continue
        if updated.status is InvoiceStatus.PAID:
            _reconcile(repos, updated)
        return note
    raise Conflict(f"Invoice {invoice_id} kept changing; retry.", code="CONCURRENT_UPDATE")


def get_credit_note(
    repos: BillingRepos, tenant_id: str, credit_note_id: str, *, customer_id: str | None = None
) -> CreditNote:
    note = repos.credit_notes.get_credit_note(tenant_id, credit_note_id)
    if note is None or (customer_id is not None and note.customer_id != customer_id):
        raise NotFound(f"Credit note not found: {credit_note_id}.")
    return note


# -- wallets ----------------------------------------------------------------------------------------------


def _wallet_event(type_: str, wallet: Wallet, **extra: Any) -> DomainEvent:
    data = {
        "wallet_id": wallet.wallet_id,
        "customer_id": wallet.customer_id,
        "currency": wallet.currency,
        "balance": plain(wallet.balance),
        **extra,
    }
    return DomainEvent(type_, wallet.tenant_id, utcnow(), data).with_id(wallet.wallet_id, type_, str(wallet.revision))


def create_wallet(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> Wallet:
    """``{"customer_id", "currency"? (default: the customer's), "initial_balance"?}``."""
    customer_id = data.get("customer_id")
    customer = repos.customers.get(tenant_id, customer_id) if customer_id else None
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    currency = data.get("currency") or customer.currency
    minor_units(currency)
    now = repos.clock()
    wallet_id = wallet_id_for(tenant_id, customer.customer_id, currency)
    if repos.wallets.get_wallet(tenant_id, wallet_id) is not None:
        raise Conflict(
            f"Customer {customer.customer_id} already has a {currency} wallet ({wallet_id}): top it up "
            f"(POST /v1/wallets/{wallet_id}/top-up).",
            code="WALLET_EXISTS",
        )
    initial = (
        ZERO if data.get("initial_balance") in (None, "0", 0) else top_up_amount(data["initial_balance"], currency)
    )
    wallet = Wallet(wallet_id, tenant_id, customer.customer_id, currency, initial, now, now)
    repos.wallets.save_wallet(wallet, None, [_wallet_event("wallet.created", wallet)])
    return wallet


def get_wallet(repos: BillingRepos, tenant_id: str, wallet_id: str) -> Wallet:
    wallet = repos.wallets.get_wallet(tenant_id, wallet_id)
    if wallet is None:
        raise NotFound(f"Wallet not found: {wallet_id}.")
    return wallet


def top_up_wallet(repos: BillingRepos, tenant_id: str, wallet_id: str, amount: Any) -> Wallet:
    for _ in range(ATTEMPTS):
        wallet = get_wallet(repos, tenant_id, wallet_id)
        value = top_up_amount(amount, wallet.currency)
        topped = wallet.topped_up(value, repos.clock())
        try:
            repos.wallets.save_wallet(
                topped, wallet.revision, [_wallet_event("wallet.topped_up", topped, amount=plain(value))]
            )
        except Conflict:
            continue
        return topped
    raise Conflict(f"Wallet {wallet_id} kept changing; retry.", code="CONCURRENT_UPDATE")


# -- settings ---------------------------------------------------------------------------------------------


def get_billing_settings(repos: BillingRepos, tenant_id: str) -> BillingSettings:
    return repos.settings.get_settings(tenant_id)


def put_billing_settings(repos: BillingRepos, tenant_id: str, data: dict[str, Any]) -> BillingSettings:
    """Replace the tenant's billing settings. The sender is submitted to the email provider for
    verification on every save (on SES: a verification email to that address until it is verified)."""
    current = repos.settings.get_settings(tenant_id)
    now = repos.clock()
    settings = parse_settings(
        tenant_id, data, providers=repos.tax_provider_names(), at=now, revision=current.revision + 1
    )
    if settings.sender_email:  # (re)submitted on every save: a lost verification is fixed by saving again
        try:
            repos.mailer.verify_sender(settings.sender_email)
        except MailRejected as exc:
            raise InvalidInput(
                f"The email provider refused sender {settings.sender_email}: {exc}", field="sender_email"
            ) from None
    event = DomainEvent(
        "billing_settings.updated",
        tenant_id,
        now,
        {
            "sender_email": settings.sender_email,
            "tax_mode": settings.tax_mode.value,
            "tax_provider": settings.tax_provider,
        },
    ).with_id("billing_settings", str(settings.revision))
    repos.settings.save_settings(settings, current.revision, [event])
    return settings
