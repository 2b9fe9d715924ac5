"""The billing events of the event log (``GET /v1/billing-events``), built in one place.

Each builder takes the time of the change (the use case's clock), so an event and the record it
describes agree. Event ids are derived from what happened (``with_id``): a retried write publishes
the same event once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.invoices import Invoice
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.wallets import Wallet
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.event_types import BillingSettingsData, CreditNoteData, InvoiceData, WalletData
from tollgate.domain.events import DomainEvent
from tollgate.domain.money import plain


def invoice_event(type_: str, invoice: Invoice, at: datetime, *parts: str, **extra: Any) -> DomainEvent:
    """``invoice.finalized``, ``invoice.paid``, ``invoice.failed``, ``invoice.voided``, ``invoice.sent``...;
    ``parts`` make the event id unique per occurrence (e.g. the attempt number)."""
    data: InvoiceData = {
        "invoice_id": invoice.invoice_id,
        "customer_id": invoice.customer_id,
        "subscription_id": invoice.subscription_id,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "period_start": to_rfc3339(invoice.period_start),
        "period_end": to_rfc3339(invoice.period_end),
        "total": plain(invoice.totals.total),
        "amount_due": plain(invoice.amount_due),
    }
    return DomainEvent(type_, invoice.tenant_id, at, {**data, **extra}).with_id(invoice.invoice_id, type_, *parts)


def wallet_event(type_: str, wallet: Wallet, at: datetime, **extra: Any) -> DomainEvent:
    """``wallet.created``, ``wallet.topped_up`` (one per revision of the wallet)."""
    data: WalletData = {
        "wallet_id": wallet.wallet_id,
        "customer_id": wallet.customer_id,
        "currency": wallet.currency,
        "balance": plain(wallet.balance),
    }
    return DomainEvent(type_, wallet.tenant_id, at, {**data, **extra}).with_id(
        wallet.wallet_id, type_, str(wallet.revision)
    )


def credit_note_created(note: CreditNote, at: datetime) -> DomainEvent:
    data: CreditNoteData = {
        "credit_note_id": note.credit_note_id,
        "invoice_id": note.invoice_id,
        "customer_id": note.customer_id,
        "amount": plain(note.amount),
        "applied_to_invoice": plain(note.applied_to_invoice),
        "balance": plain(note.balance),
        "currency": note.currency,
    }
    return DomainEvent("credit_note.created", note.tenant_id, at, {**data}).with_id(note.credit_note_id, "created")


def billing_settings_updated(settings: BillingSettings, at: datetime) -> DomainEvent:
    data: BillingSettingsData = {
        "sender_email": settings.sender_email,
        "tax_mode": settings.tax_mode.value,
        "tax_provider": settings.tax_provider,
    }
    return DomainEvent("billing_settings.updated", settings.tenant_id, at, {**data}).with_id(
        "billing_settings", str(settings.revision)
    )
