"""A customer's payment method: set directly (or from the portal), or collected on a hosted checkout page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.event_types import PaymentMethodData
from tollgate.domain.events import DomainEvent
from tollgate.domain.payments import attempts_made
from tollgate.ports.payments import CheckoutRequest, CheckoutSession
from tollgate.usecases.payments.repos import PaymentRepos


def set_payment_method(repos: PaymentRepos, tenant_id: str, customer_id: str, data: dict[str, Any]) -> Customer:
    """Save the customer's default payment method (seed 000: "If payment method is outdated, direct the
    customer to update it in the portal"). The next dunning attempt, or a retry-payment, uses it."""
    method = data.get("payment_method")
    if not isinstance(method, str) or not method.startswith("pm_") or len(method) > 255:
        raise InvalidInput("payment_method must be a payment method id such as pm_card_visa", field="payment_method")
    customer = repos.customers.get(tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    provider_customer = data.get("provider_customer_id", customer.provider_customer_id)
    after = replace(customer, payment_method=method, provider_customer_id=provider_customer)
    now = repos.clock()
    event = DomainEvent(
        "customer.payment_method_updated",
        tenant_id,
        now,
        {**PaymentMethodData(customer_id=customer_id, payment_method=method)},
    ).with_id(customer_id, "payment_method", method, to_rfc3339(now))
    repos.customers.update(customer, after, [event])
    # Invoices that waited for a payment method (never attempted) are collected now.
    for invoice in repos.invoices.list_invoices(tenant_id, customer_id=customer_id, status=InvoiceStatus.FINALIZED):
        if invoice.amount_due > 0 and attempts_made(invoice.payment_attempts) == 0:
            repos.dunning.start(tenant_id, invoice.invoice_id, "m1")
    return after


def create_checkout(repos: PaymentRepos, tenant_id: str, customer_id: str, data: dict[str, Any]) -> CheckoutSession:
    """A hosted page for the customer's first payment method (Stripe Checkout in setup mode). With
    ``plan_id``, completing it also subscribes the customer to that plan (applied from the provider's
    ``checkout.session.completed`` webhook)."""
    customer = repos.customers.get(tenant_id, customer_id)
    if customer is None:
        raise NotFound(f"Customer not found: {customer_id}.")
    for name in ("success_url", "cancel_url"):
        if not str(data.get(name) or "").startswith(("https://", "http://")):
            raise InvalidInput(f"{name} must be an http(s) URL the customer returns to", field=name)
    metadata = {"tenant_id": tenant_id, "customer_id": customer_id}
    if data.get("plan_id"):
        plan = repos.catalog.get_plan(tenant_id, data["plan_id"])
        if plan is None:
            raise NotFound(f"Plan not found: {data['plan_id']}.")
        metadata["plan_id"] = plan.plan_id
    settings = repos.payments.get_payment_settings(tenant_id)
    request = CheckoutRequest(
        tenant_id=tenant_id,
        customer_id=customer_id,
        currency=customer.currency,
        success_url=data["success_url"],
        cancel_url=data["cancel_url"],
        session_key=str(data.get("idempotency_key") or f"{customer_id}:{to_rfc3339(repos.clock())}"),
        provider_customer_id=customer.provider_customer_id,
        customer_email=customer.email,
        metadata=metadata,
    )
    return repos.providers(settings).create_checkout(request)
