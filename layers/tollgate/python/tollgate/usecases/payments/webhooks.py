"""Stripe webhooks (seed 002): verified, refused in the other Stripe mode, applied once per event id.

``payment_intent.succeeded`` pays the invoice named in the PaymentIntent's metadata when
``amount_received`` covers it (written with the event's dedup marker in one transaction);
``checkout.session.completed`` saves the payment method and, with a ``plan_id``, subscribes the
customer (the marker is written first, conditionally, so of two concurrent deliveries exactly one
applies it; it is released if applying fails, so Stripe's redelivery applies it then). ``applied``
says whether the event changed anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.errors import BadRequest, Conflict
from tollgate.domain.money import minor_units, plain
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.domain.payments import PaymentAttempt, PaymentOutcome, attempts_made
from tollgate.domain.retry import retry_on_conflict
from tollgate.ports.payments import DuplicateWebhook, PaymentWrite
from tollgate.usecases.payments.checkout import set_payment_method
from tollgate.usecases.payments.repos import PaymentRepos, count_outcome
from tollgate.usecases.payments.settlement import settle

MAX_MINOR_UNITS = 10**15  # an amount_received past this is not a payment Stripe made
Subscribe = Callable[[str, dict[str, Any]], Any]


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    duplicate: bool = False
    applied: bool = False
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "received": True,
            "id": self.event_id,
            "type": self.type,
            "duplicate": self.duplicate,
            "applied": self.applied,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class _Event:
    """A verified Stripe event, its parts checked for shape."""

    tenant_id: str
    event_id: str
    type: str
    obj: dict[str, Any]
    metadata: dict[str, Any]
    summary: dict[str, Any]

    @property
    def marker(self) -> tuple[str, str, dict[str, Any]]:
        return (self.tenant_id, self.event_id, self.summary)

    def result(self, *, applied: bool = False, detail: str = "") -> WebhookResult:
        return WebhookResult(self.event_id, self.type, applied=applied, detail=detail)


def _malformed(what: str) -> BadRequest:
    return BadRequest(f"The Stripe event is malformed: {what}. Nothing was changed.", code="INVALID_WEBHOOK_PAYLOAD")


def _verified_event(repos: PaymentRepos, tenant_id: str, payload: str, signature: str | None) -> _Event:
    settings = repos.payments.get_payment_settings(tenant_id)
    if not settings.webhook_secret:
        raise BadRequest(
            "This tenant has no Stripe webhook signing secret: set webhook_secret (whsec_…) with "
            "PUT /v1/settings/payments.",
            code="WEBHOOK_NOT_CONFIGURED",
        )
    event = repos.verify_webhook(payload, signature, settings.webhook_secret)
    event_id, type_ = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id.startswith("evt_") or len(event_id) > 255:
        raise BadRequest("The payload is not a Stripe event (no evt_ id).", code="INVALID_WEBHOOK_PAYLOAD")
    if not isinstance(type_, str) or len(type_) > 255:
        raise _malformed("type is not a string")
    livemode = event.get("livemode", False)
    if not isinstance(livemode, bool):
        raise _malformed("livemode is not true or false")
    if livemode != settings.livemode:
        mode, tenant_mode = ("live" if livemode else "test"), ("live" if settings.livemode else "test")
        raise BadRequest(
            f"A {mode}-mode Stripe event was sent to a {tenant_mode}-mode tenant. Stripe's test and live modes "
            f"do not see each other: point the {mode}-mode webhook at the tenant configured for {mode} mode, "
            "or change livemode with PUT /v1/settings/payments.",
            code="LIVEMODE_MISMATCH",
        )
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise _malformed("data.object is not an object")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _malformed("data.object.metadata is not an object")
    object_id = obj.get("id")
    summary = {"type": type_, "livemode": livemode, "object": object_id if isinstance(object_id, str) else None}
    return _Event(tenant_id, event_id, type_, obj, metadata, summary)


def handle_stripe_webhook(
    repos: PaymentRepos, tenant_id: str, payload: str, signature: str | None, *, subscribe: Subscribe | None = None
) -> WebhookResult:
    """Verify (400, nothing changed, on a bad signature or a malformed event), refuse the other Stripe
    mode, apply once per event id."""
    event = _verified_event(repos, tenant_id, payload, signature)
    duplicate = WebhookResult(event.event_id, event.type, duplicate=True, detail="already received: not applied again")
    if repos.payments.webhook_seen(tenant_id, event.event_id):
        return duplicate
    try:
        if event.type == "payment_intent.succeeded":
            return _payment_succeeded(repos, event)
        if event.type == "checkout.session.completed":
            return _checkout_completed(repos, event, subscribe)
        repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
        return event.result(detail="recorded; this event type changes nothing in Tollgate")
    except DuplicateWebhook:
        return duplicate


def _amount_received(obj: dict[str, Any]) -> int | None:
    """The PaymentIntent's ``amount_received`` in minor units; None when Stripe sent none (null or
    absent: nothing is known to be paid); 400 when it is not a whole number of minor units."""
    amount = obj.get("amount_received")
    if amount is None:
        return None
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_MINOR_UNITS:
        raise _malformed(f"amount_received must be a whole number of minor units from 0 to {MAX_MINOR_UNITS}")
    return amount


def _shortfall(obj: dict[str, Any], invoice: Invoice, received: int | None) -> str | None:
    """Why the PaymentIntent does not pay the invoice (another currency, too little, no amount), else None."""
    currency = obj.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise _malformed("currency is not a string")
    due = f"{plain(invoice.amount_due)} {invoice.currency} due"
    if currency is not None and currency.upper() != invoice.currency:
        return f"the payment is in {currency.upper()[:3]}, not {invoice.currency} ({due})"
    if received is None:
        return f"the event carries no amount_received ({due})"
    if received < int(invoice.amount_due * (10 ** minor_units(invoice.currency))):
        return f"the payment does not cover the invoice ({due})"
    return None


def _payment_succeeded(repos: PaymentRepos, event: _Event) -> WebhookResult:
    tenant_id, obj = event.tenant_id, event.obj
    invoice_id = event.metadata.get("invoice_id")
    received = _amount_received(obj)
    if event.metadata.get("tenant_id") not in (None, tenant_id) or not invoice_id or not isinstance(invoice_id, str):
        repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
        return event.result(detail="not a Tollgate invoice payment of this tenant: recorded, nothing changed")
    settings = repos.payments.get_payment_settings(tenant_id)

    def step() -> WebhookResult:
        invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
        why = _shortfall(obj, invoice, received) if invoice is not None else None
        if why is not None:
            repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
            return event.result(detail=f"invoice {invoice_id}: {why}: recorded, nothing changed")
        if invoice is None or invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
            repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
            state = invoice.status.value if invoice else "unknown"
            return event.result(detail=f"invoice {invoice_id} is {state}: nothing to apply")
        return _pay(repos, event, invoice, settings)

    return retry_on_conflict(step, exhausted=f"Invoice {invoice_id} kept changing; Stripe will redeliver the event.")


def _pay(repos: PaymentRepos, event: _Event, invoice: Invoice, settings: PaymentSettings) -> WebhookResult:
    """Record the PaymentIntent as a successful attempt: the invoice PAID, with the marker, in one write."""
    payment_id, method = event.obj.get("id"), event.obj.get("payment_method")
    attempt = PaymentAttempt(
        attempts_made(invoice.payment_attempts) + 1,
        repos.clock(),
        PaymentOutcome.SUCCEEDED,
        invoice.amount_due,
        "webhook",
        payment_id=payment_id if isinstance(payment_id, str) else "",
        payment_method=method if isinstance(method, str) else "",
    )
    sub = repos.subscriptions.get(event.tenant_id, invoice.subscription_id)
    final, save, events = settle(invoice, sub, attempt, settings, payment_id=attempt.payment_id)
    repos.payments.commit_payment(PaymentWrite(final, invoice.revision, save, events, webhook_event=event.marker))
    count_outcome(invoice, final)
    return event.result(applied=True, detail=f"invoice {invoice.invoice_id} is PAID")


def _checkout_completed(repos: PaymentRepos, event: _Event, subscribe: Subscribe | None) -> WebhookResult:
    """Save the session's payment method (and subscribe the customer to its ``plan_id``). The marker is
    written first: a concurrent delivery of the same event meets it and applies nothing."""
    tenant_id, obj, metadata = event.tenant_id, event.obj, event.metadata
    customer_id, plan_id = metadata.get("customer_id"), metadata.get("plan_id")
    if metadata.get("tenant_id") not in (None, tenant_id):
        repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
        return event.result(detail="the session belongs to another tenant: nothing changed")
    customer = repos.customers.get(tenant_id, customer_id) if isinstance(customer_id, str) and customer_id else None
    if customer is None or not isinstance(customer_id, str):
        repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))
        return event.result(detail="no Tollgate customer in the session's metadata: nothing changed")
    method = metadata.get("payment_method") or obj.get("payment_method") or customer.payment_method or "pm_default"
    provider_customer = obj.get("customer")
    if not isinstance(method, str) or not method.startswith("pm_") or len(method) > 255:
        raise _malformed("the session's payment_method is not a payment method id (pm_…)")
    if provider_customer is not None and not isinstance(provider_customer, str):
        raise _malformed("the session's customer is not a string")
    session_id = obj.get("id")
    if plan_id is not None and not (isinstance(plan_id, str) and isinstance(session_id, str)):
        raise _malformed("plan_id and the session id must be strings")
    repos.payments.commit_payment(PaymentWrite(webhook_event=event.marker))  # DuplicateWebhook: another delivery
    try:
        changed = method != customer.payment_method or (
            provider_customer is not None and provider_customer != customer.provider_customer_id
        )
        if changed:
            set_payment_method(
                repos, tenant_id, customer_id, {"payment_method": method, "provider_customer_id": provider_customer}
            )
        subscribed = _subscribe(subscribe, tenant_id, customer_id, plan_id, session_id)
    except Exception:
        repos.payments.release_webhook(tenant_id, event.event_id)  # not applied: Stripe's redelivery will be
        raise
    saved = f"payment method saved for customer {customer_id}" if changed else "payment method unchanged"
    if subscribed:
        return event.result(applied=True, detail=f"{saved}; customer {customer_id} subscribed to plan {plan_id}")
    return event.result(applied=changed, detail=saved if changed else f"{saved}: nothing changed")


def _subscribe(
    subscribe: Subscribe | None, tenant_id: str, customer_id: str, plan_id: str | None, session_id: str | None
) -> bool:
    """Subscribe the customer to the session's plan; False when there is none or it already was (the
    subscription's external id is the session's, so an earlier delivery's subscription is a Conflict)."""
    if not plan_id or subscribe is None:
        return False
    try:
        subscribe(tenant_id, {"customer_id": customer_id, "plan_id": plan_id, "external_id": f"checkout_{session_id}"})
    except Conflict:
        return False
    return True
