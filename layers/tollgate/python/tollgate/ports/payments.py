"""Ports of payments and dunning (``tollgate.usecases.payments``).

Adapters: ``tollgate.adapters.payments.sandbox`` (test payment methods by name, no money moves),
``tollgate.adapters.payments.stripe`` (the ``stripe`` package), ``tollgate.adapters.dynamodb.payments``
(settings, the atomic invoice + subscription write, webhook deduplication),
``tollgate.adapters.stepfunctions`` (starting the dunning workflow). Fakes: ``tests/fakes/payments.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from tollgate.domain.billing.invoices import Invoice
from tollgate.domain.events import DomainEvent
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.domain.payments import PaymentOutcome
from tollgate.domain.subscriptions import Subscription, Transition


@dataclass(frozen=True)
class ChargeRequest:
    """Charge ``amount`` of ``invoice_id`` off-session. ``attempt`` makes the idempotency key: the same
    attempt sent twice charges once."""

    tenant_id: str
    invoice_id: str
    attempt: int
    amount: Decimal
    currency: str
    customer_id: str
    payment_method: str
    provider_customer_id: str | None = None
    payment_id: str = ""  # the provider's payment (Stripe: PaymentIntent) from an earlier attempt
    customer_email: str | None = None
    description: str = ""

    @property
    def idempotency_key(self) -> str:
        return f"{self.invoice_id}:{self.attempt}"


@dataclass(frozen=True)
class ChargeResult:
    outcome: PaymentOutcome
    payment_id: str = ""
    decline_code: str = ""
    message: str = ""
    provider_customer_id: str | None = None  # the provider's customer, when the charge created it


@dataclass(frozen=True)
class CheckoutRequest:
    tenant_id: str
    customer_id: str
    currency: str
    success_url: str
    cancel_url: str
    session_key: str  # idempotency: the same key returns the same session
    provider_customer_id: str | None = None
    customer_email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    url: str
    provider_customer_id: str | None = None


class PaymentProvider(Protocol):
    name: str
    livemode: bool

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Declines and provider failures are results (DECLINED / ERROR), not exceptions."""
        ...

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A hosted page where the customer enters a payment method (Stripe Checkout, setup mode)."""
        ...


class ProviderFactory(Protocol):
    def __call__(self, settings: PaymentSettings) -> PaymentProvider: ...


@dataclass(frozen=True)
class SubscriptionSave:
    """A subscription write that must land with the invoice's (same transaction)."""

    subscription: Subscription
    expected_version: int
    history: list[Transition]
    revoke_keys_reason: str | None = None


@dataclass
class PaymentWrite:
    invoice: Invoice | None = None
    invoice_expected_revision: int | None = None
    subscription: SubscriptionSave | None = None
    events: list[DomainEvent] = field(default_factory=list)
    # A provider webhook event this write applies: recorded in the same transaction, once per id.
    webhook_event: tuple[str, str, dict[str, Any]] | None = None  # (tenant_id, event id, summary)


class PaymentRepository(Protocol):
    def get_payment_settings(self, tenant_id: str) -> PaymentSettings:
        """Defaults (revision 0) when never saved."""
        ...

    def save_payment_settings(
        self, settings: PaymentSettings, expected_revision: int, events: list[DomainEvent]
    ) -> None: ...

    def commit_payment(self, write: PaymentWrite) -> None:
        """All or nothing; Conflict when the invoice or subscription changed, or the webhook event was
        already recorded (``DuplicateWebhook``)."""
        ...

    def webhook_seen(self, tenant_id: str, event_id: str) -> bool: ...

    def release_webhook(self, tenant_id: str, event_id: str) -> None:
        """Remove the marker of an event whose effect could not be applied (its redelivery applies it)."""
        ...


class DuplicateWebhook(Exception):
    """This provider event id was already applied."""


class DunningStarter(Protocol):
    def start(self, tenant_id: str, invoice_id: str, run: str = "") -> str:
        """Start the dunning workflow of an invoice, idempotent per (invoice, run): the first run is
        started by the invoice's finalization; a restart names its reason (``r<attempt>``, ``m1``)."""
        ...
