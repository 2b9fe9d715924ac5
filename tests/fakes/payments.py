"""In-memory fakes of the payment ports (same contracts as the DynamoDB, Stripe and Step Functions adapters)."""

from __future__ import annotations

import threading
from dataclasses import replace

from tests.fakes.billing import InMemoryBilling, InMemoryCustomers
from tollgate.domain.customers import Customer
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.domain.payments import PaymentOutcome
from tollgate.ports.payments import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    DuplicateWebhook,
    PaymentWrite,
)


class UpdatableCustomers(InMemoryCustomers):
    def update(self, before: Customer, after: Customer, events: list[DomainEvent]) -> None:
        self.items[(after.tenant_id, after.customer_id)] = after

    def set_provider_customer_id(self, tenant_id: str, customer_id: str, provider_customer_id: str) -> None:
        c = self.items[(tenant_id, customer_id)]
        if not c.provider_customer_id:
            self.items[(tenant_id, customer_id)] = replace(c, provider_customer_id=provider_customer_id)


class InMemoryPayments:
    """Settings, webhook markers and the all-or-nothing payment write over an ``InMemoryBilling``."""

    def __init__(self, billing: InMemoryBilling) -> None:
        self.billing = billing
        self.settings: dict[str, PaymentSettings] = {}
        self.webhooks: dict[tuple[str, str], dict] = {}
        self.events: list[DomainEvent] = []
        self.fail_next_commit = 0
        self._lock = threading.Lock()

    def get_payment_settings(self, tenant_id: str) -> PaymentSettings:
        return self.settings.get(tenant_id) or PaymentSettings(tenant_id)

    def save_payment_settings(
        self, settings: PaymentSettings, expected_revision: int, events: list[DomainEvent]
    ) -> None:
        if self.get_payment_settings(settings.tenant_id).revision != expected_revision:
            raise ConcurrentUpdate("settings changed meanwhile")
        self.settings[settings.tenant_id] = settings
        self.events.extend(events)

    def webhook_seen(self, tenant_id: str, event_id: str) -> bool:
        return (tenant_id, event_id) in self.webhooks

    def release_webhook(self, tenant_id: str, event_id: str) -> None:
        with self._lock:
            self.webhooks.pop((tenant_id, event_id), None)

    def commit_payment(self, write: PaymentWrite) -> None:
        with self._lock:  # all or nothing, as one DynamoDB transaction
            self._commit(write)

    def _commit(self, write: PaymentWrite) -> None:
        if self.fail_next_commit:
            self.fail_next_commit -= 1
            raise ConcurrentUpdate("simulated lost race")
        if write.webhook_event and self.webhook_seen(write.webhook_event[0], write.webhook_event[1]):
            raise DuplicateWebhook(write.webhook_event[1])
        inv = write.invoice
        if inv is not None:
            stored_invoice = self.billing.invoices.get((inv.tenant_id, inv.invoice_id))
            expected = write.invoice_expected_revision
            if (stored_invoice is None) != (expected is None) or (
                stored_invoice is not None and stored_invoice.revision != expected
            ):
                raise ConcurrentUpdate("invoice changed meanwhile")
        if write.subscription is not None:
            s = write.subscription
            stored = self.billing.subscriptions.get(s.subscription.tenant_id, s.subscription.subscription_id)
            if stored is None or stored.version != s.expected_version:
                raise ConcurrentUpdate("subscription changed meanwhile")
        if inv is not None:
            self.billing.invoices[(inv.tenant_id, inv.invoice_id)] = inv
        if write.subscription is not None:
            self.billing.subscriptions.put(write.subscription.subscription, write.subscription.history)
        if write.webhook_event:
            self.webhooks[(write.webhook_event[0], write.webhook_event[1])] = write.webhook_event[2]
        self.events.extend(write.events)


class ScriptedProvider:
    """Answers from a script (a list of outcomes, consumed per call), else like the sandbox; records every request."""

    name = "fake"
    livemode = False

    def __init__(self, script: list[PaymentOutcome] | None = None) -> None:
        self.script = list(script or [])
        self.requests: list[ChargeRequest] = []
        self.by_key: dict[str, ChargeResult] = {}

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.requests.append(request)
        if request.idempotency_key in self.by_key:  # replay, as Stripe does for a repeated idempotency key
            return self.by_key[request.idempotency_key]
        outcome = self.script.pop(0) if self.script else PaymentOutcome.SUCCEEDED
        result = ChargeResult(
            outcome, f"pi_{request.invoice_id}", "card_declined" if outcome is PaymentOutcome.DECLINED else ""
        )
        if outcome is not PaymentOutcome.ERROR:
            self.by_key[request.idempotency_key] = result
        return result

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        return CheckoutSession(
            f"cs_{request.session_key}", f"https://checkout.invalid/{request.session_key}", "cus_fake"
        )


class RecordingDunning:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, str]] = []

    def start(self, tenant_id: str, invoice_id: str, run: str = "") -> str:
        if (tenant_id, invoice_id, run) not in self.started:
            self.started.append((tenant_id, invoice_id, run))
        return f"arn:execution:{invoice_id}{'-' + run if run else ''}"


def with_payment_method(customers: InMemoryCustomers, tenant_id: str, customer_id: str, method: str) -> None:
    c = customers.items[(tenant_id, customer_id)]
    customers.items[(tenant_id, customer_id)] = replace(c, payment_method=method)
