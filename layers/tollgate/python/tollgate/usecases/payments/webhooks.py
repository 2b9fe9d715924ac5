"""Stripe webhooks (seed 002): verified, refused in the other Stripe mode, applied once per event id.

``payment_intent.succeeded`` pays the invoice named in the PaymentIntent's metadata;
``checkout.session.completed`` saves the payment method and, with a ``plan_id``, subscribes the customer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.errors import BadRequest, Conflict
from tollgate.domain.money import plain
from tollgate.domain.payments import PaymentAttempt, PaymentOutcome, attempts_made
from tollgate.ports.payments import DuplicateWebhook, PaymentWrite
from tollgate.usecases.payments.checkout import set_payment_method
from tollgate.usecases.payments.repos import PaymentRepos
from tollgate.usecases.payments.settlement import settle

ATTEMPTS = 3  # a lost race is re-read and retried this many times


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


def handle_stripe_webhook(
    repos: PaymentRepos,
    tenant_id: str,
    payload: str,
    signature: str | None,
    *,
    subscribe: Callable[[str, dict[str, Any]], Any] | None = None,
) -> WebhookResult:
    """Verify (400, nothing changed, on a bad signature), refuse the other Stripe mode, apply once per event id."""
    settings = repos.payments.get_payment_settings(tenant_id)
    if not settings.webhook_secret:
        raise BadRequest(
            "This tenant has no Stripe webhook signing secret: set webhook_secret (whsec_…) with "
            "PUT /v1/settings/payments.",
            code="WEBHOOK_NOT_CONFIGURED",
        )
    event = repos.verify_webhook(payload, signature, settings.webhook_secret)
    event_id, type_ = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id.startswith("evt_"):
        raise BadRequest("The payload is not a Stripe event (no evt_ id).", code="INVALID_WEBHOOK_PAYLOAD")
    livemode = bool(event.get("livemode", False))
    if livemode != settings.livemode:
        mode, tenant_mode = ("live" if livemode else "test"), ("live" if settings.livemode else "test")
        raise BadRequest(
            f"A {mode}-mode Stripe event was sent to a {tenant_mode}-mode tenant. Stripe's test and live modes "
            f"do not see each other: point the {mode}-mode webhook at the tenant configured for {mode} mode, "
            "or change livemode with PUT /v1/settings/payments.",
            code="LIVEMODE_MISMATCH",
        )
    if repos.payments.webhook_seen(tenant_id, event_id):
        return WebhookResult(event_id, type_, duplicate=True, detail="already received: not applied again")
    obj = (event.get("data") or {}).get("object") or {}
    summary = {"type": type_, "livemode": livemode, "object": obj.get("id")}
    try:
        if type_ == "payment_intent.succeeded":
            return _payment_succeeded(repos, tenant_id, event_id, type_, obj, settings, summary)
        if type_ == "checkout.session.completed":
            detail = _checkout_completed(repos, tenant_id, obj, event_id, subscribe)
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            return WebhookResult(event_id, type_, applied=True, detail=detail)
        repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
        return WebhookResult(event_id, type_, detail="recorded; this event type changes nothing in Tollgate")
    except DuplicateWebhook:
        return WebhookResult(event_id, type_, duplicate=True, detail="already received: not applied again")


def _payment_succeeded(repos, tenant_id, event_id, type_, obj, settings, summary) -> WebhookResult:
    metadata = obj.get("metadata") or {}
    invoice_id = metadata.get("invoice_id")
    if metadata.get("tenant_id") not in (None, tenant_id) or not invoice_id:
        repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
        return WebhookResult(
            event_id, type_, detail="not a Tollgate invoice payment of this tenant: recorded, nothing changed"
        )
    for _ in range(ATTEMPTS):
        invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
        if invoice is not None and not _covers(obj, invoice):
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            return WebhookResult(
                event_id,
                type_,
                detail=f"the payment does not cover invoice {invoice_id} ({plain(invoice.amount_due)} "
                f"{invoice.currency} due): recorded, nothing changed",
            )
        if invoice is None or invoice.status not in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
            repos.payments.commit_payment(PaymentWrite(webhook_event=(tenant_id, event_id, summary)))
            state = invoice.status.value if invoice else "unknown"
            return WebhookResult(event_id, type_, detail=f"invoice {invoice_id} is {state}: nothing to apply")
        sub = repos.subscriptions.get(tenant_id, invoice.subscription_id)
        attempt = PaymentAttempt(
            attempts_made(invoice.payment_attempts) + 1,
            repos.clock(),
            PaymentOutcome.SUCCEEDED,
            invoice.amount_due,
            "webhook",
            payment_id=str(obj.get("id") or ""),
            payment_method=str(obj.get("payment_method") or ""),
        )
        final, save, events = settle(invoice, sub, attempt, settings, payment_id=attempt.payment_id)
        try:
            repos.payments.commit_payment(
                PaymentWrite(final, invoice.revision, save, events, webhook_event=(tenant_id, event_id, summary))
            )
        except DuplicateWebhook:
            raise
        except Conflict:
            continue
        return WebhookResult(event_id, type_, applied=True, detail=f"invoice {invoice_id} is PAID")
    raise Conflict(f"Invoice {invoice_id} kept changing; Stripe will redeliver the event.", code="CONCURRENT_UPDATE")


def _covers(obj: dict[str, Any], invoice: Invoice) -> bool:
    """A PaymentIntent pays the invoice if it is in its currency and for at least the amount due."""
    from tollgate.domain.money import minor_units

    amount, currency = obj.get("amount_received", obj.get("amount")), obj.get("currency")
    if currency is not None and str(currency).upper() != invoice.currency:
        return False
    if amount is not None:
        return int(amount) >= int(invoice.amount_due * (10 ** minor_units(invoice.currency)))
    return True


def _checkout_completed(repos, tenant_id, obj, event_id, subscribe) -> str:
    metadata = obj.get("metadata") or {}
    if metadata.get("tenant_id") not in (None, tenant_id):
        return "the session belongs to another tenant: nothing changed"
    customer_id = metadata.get("customer_id")
    customer = repos.customers.get(tenant_id, customer_id) if customer_id else None
    if customer is None:
        return "no Tollgate customer in the session's metadata: nothing changed"
    method = metadata.get("payment_method") or obj.get("payment_method") or customer.payment_method or "pm_default"
    set_payment_method(
        repos, tenant_id, customer_id, {"payment_method": method, "provider_customer_id": obj.get("customer")}
    )
    plan_id = metadata.get("plan_id")
    if plan_id and subscribe is not None:
        # A Conflict: already subscribed by an earlier delivery (the external id is the session's).
        with contextlib.suppress(Conflict):
            subscribe(
                tenant_id, {"customer_id": customer_id, "plan_id": plan_id, "external_id": f"checkout_{obj.get('id')}"}
            )
        return f"payment method saved; customer {customer_id} subscribed to plan {plan_id}"
    return f"payment method saved for customer {customer_id}"
