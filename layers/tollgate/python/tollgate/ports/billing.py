"""Ports of the billing pipeline (``tollgate.usecases.billing``).

Adapters: ``tollgate.adapters.dynamodb.billing`` (invoices, credit notes, wallets, settings: one
class, because finalizing an invoice writes several of them in one transaction),
``tollgate.adapters.ses`` (Mailer), ``tollgate.domain.billing.tax.BuiltinTaxProvider``. In-memory
fakes for unit tests: ``tests/fakes/billing.py``.

Contract of every repository: reads take the caller's ``tenant_id`` (another tenant's id finds
nothing); writes are conditional on the revision they replace (``None``: the item must not exist)
and raise ``Conflict`` when a condition fails; ``events`` go to the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.delivery import InvoiceDelivery
from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.tax import TaxRequest, TaxResult
from tollgate.domain.billing.usage import UsageAggregate
from tollgate.domain.billing.wallets import Wallet
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.customers import Customer
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


class UsageReader(Protocol):
    def aggregate(
        self, tenant_id: str, customer_id: str, meter: Meter, start: datetime, end: datetime
    ) -> UsageAggregate:
        """The meter's aggregation over the customer's events with ``start <= timestamp < end`` and
        the windows behind it. Raises ``tollgate.domain.billing.errors.UsageDataUnavailable`` when the
        usage store cannot be read (the use case also treats any other exception as that)."""
        ...


@dataclass(frozen=True)
class ChargeConsumption:
    """The subscription's side of a finalized invoice: pending charges consumed (it keeps ``remaining``),
    ``billed_through`` moved to the period end; it moves from
    ``expected_version`` to ``expected_version + 1`` (conditional: a concurrent change aborts the write)."""

    tenant_id: str
    subscription_id: str
    expected_version: int
    remaining: tuple[tuple[str, str, str], ...]
    # Finalizing also records how far the subscription is invoiced, and re-lists it in the due index under
    # the end of its next period (None: nothing more to bill), in the same transaction.
    billed_through: datetime | None = None
    next_period_end: datetime | None = None
    # The subscription's discount after this invoice used a period of it (``discount_used``: it had one).
    discount_used: bool = False
    discount_after: dict[str, Any] | None = None


@dataclass
class BillingWrite:
    """What one atomic billing write changes. Each entity comes with the revision it replaces
    (``None``: must not exist yet)."""

    invoice: Invoice | None = None
    invoice_expected_revision: int | None = None
    credit_notes: list[tuple[CreditNote, int | None]] = field(default_factory=list)
    wallet: tuple[Wallet, int | None] | None = None
    charges: ChargeConsumption | None = None
    events: list[DomainEvent] = field(default_factory=list)


class InvoiceRepository(Protocol):
    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None: ...

    def list_invoices(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int = 100,
    ) -> list[Invoice]:
        """Newest period first."""
        ...

    def page_invoices(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """A customer's invoices newest period first, or the tenant's by invoice id."""
        ...

    def commit(self, write: BillingWrite) -> None:
        """Write everything in ``write`` atomically, or nothing (Conflict)."""
        ...

    def get_delivery(self, tenant_id: str, invoice_id: str) -> InvoiceDelivery | None: ...

    def save_delivery(self, delivery: InvoiceDelivery, events: list[DomainEvent]) -> None: ...


@runtime_checkable
class PageReader(Protocol):
    """An invoice repository that can read a bill-run page's items in bulk (the DynamoDB adapter:
    BatchGetItem); without it the page snapshot reads them one by one."""

    def prefetch(
        self, tenant_id: str, *, customer_ids: list[str], invoice_ids: list[str], wallet_ids: list[str]
    ) -> tuple[dict[str, Customer], dict[str, Invoice], dict[str, Wallet]]:
        """The customers, invoices and wallets that exist, by id."""
        ...


class CreditNoteRepository(Protocol):
    def get_credit_note(self, tenant_id: str, credit_note_id: str) -> CreditNote | None: ...

    def list_credit_notes(
        self, tenant_id: str, *, customer_id: str | None = None, invoice_id: str | None = None
    ) -> list[CreditNote]: ...

    def available_credit_notes(self, tenant_id: str, customer_id: str, currency: str) -> list[CreditNote]:
        """The customer's credit notes in ``currency`` with a balance left, oldest first."""
        ...


class WalletRepository(Protocol):
    def get_wallet(self, tenant_id: str, wallet_id: str) -> Wallet | None: ...

    def find_wallet(self, tenant_id: str, customer_id: str, currency: str) -> Wallet | None: ...

    def list_wallets(self, tenant_id: str, *, customer_id: str | None = None) -> list[Wallet]: ...

    def save_wallet(self, wallet: Wallet, expected_revision: int | None, events: list[DomainEvent]) -> None: ...


class BillingSettingsRepository(Protocol):
    def get_settings(self, tenant_id: str) -> BillingSettings:
        """The tenant's settings (defaults, revision 0, when never saved)."""
        ...

    def save_settings(self, settings: BillingSettings, expected_revision: int, events: list[DomainEvent]) -> None: ...


class TaxProvider(Protocol):
    """An external tax engine (Avalara/Vertex style) or the built-in calculator.

    ``calculate`` may be slow; the use case waits at most ``timeout_seconds`` (it runs the call on a
    thread of its own, at most 16 outstanding) and turns a timeout or any exception into
    TAX_CALCULATION_FAILED. An HTTP provider passes ``timeout_seconds`` to its HTTP client as well, so
    that a hung connection ends and frees its thread."""

    name: str

    def calculate(self, request: TaxRequest, timeout_seconds: float) -> TaxResult: ...


class MailRejected(Exception):
    """The email provider refused the message (unverified sender, suppressed address, throttled...)."""


class Mailer(Protocol):
    def send(self, *, sender: str, to: str, subject: str, text: str) -> str:
        """Send a plain-text email; the provider's message id. Raises ``MailRejected``."""
        ...

    def verify_sender(self, address: str) -> None:
        """Ask the provider to verify ``address`` as a sender (SES: ``verify_email_identity``)."""
        ...
