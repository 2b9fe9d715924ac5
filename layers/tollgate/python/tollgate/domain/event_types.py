"""The catalogue of domain event types: each type's description and the model of its ``data``.

The ``*Data`` TypedDicts are what the event builders annotate their payloads with (mypy checks that
each builder fills its model), and what ``GET /v1/webhook-event-types`` turns into JSON Schemas: one
source of truth for what a webhook receiver gets. A payload may carry more keys than its model names
(context of a particular change, e.g. ``reason``); the schemas allow them.

Types that other parts of Tollgate emit without a model yet are catalogued with ``GenericData``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typing_extensions import TypedDict  # pydantic reads these on Python 3.11 (JSON Schemas)


class GenericData(TypedDict):
    """The changed object's fields (see GET /v1/billing-events for examples)."""


class TenantData(TypedDict):
    name: str


class ApiKeyData(TypedDict):
    key_id: str
    kind: str
    role: str | None
    display: str
    customer_id: str | None


class ProductData(TypedDict):
    product_id: str
    name: str
    status: str


class ProductGatewayStaleData(TypedDict):
    product_id: str
    integration_id: str
    diff: list[dict[str, Any]]  # JSON Patch: what Tollgate would push to the gateway
    checked_at: str


class MeterData(TypedDict):
    meter_id: str
    event_name: str
    aggregation: dict[str, Any]
    usage_reset: str
    status: str


class PlanData(TypedDict):
    plan_id: str
    name: str
    currency: str
    current_version: int | None


class PlanVersionData(TypedDict):
    plan_id: str
    version: int
    status: str
    currency: str
    current_version: int | None
    meter_ids: list[str]


class CustomerData(TypedDict):
    customer_id: str
    external_id: str


class PaymentMethodData(TypedDict):
    customer_id: str
    payment_method: str


class SubscriptionData(TypedDict):
    subscription_id: str
    customer_id: str
    status: str
    plan_id: str
    plan_version: int
    dunning_attempts: int


class InvoiceData(TypedDict):
    """Amounts are decimal strings; times RFC 3339 UTC."""

    invoice_id: str
    customer_id: str
    subscription_id: str | None
    status: str
    currency: str
    period_start: str
    period_end: str
    total: str
    amount_due: str


class WalletData(TypedDict):
    wallet_id: str
    customer_id: str
    currency: str
    balance: str


class CreditNoteData(TypedDict):
    credit_note_id: str
    invoice_id: str
    customer_id: str
    amount: str
    applied_to_invoice: str
    balance: str
    currency: str


class BillingSettingsData(TypedDict):
    sender_email: str | None
    tax_mode: str
    tax_provider: str | None


class PaymentSettingsData(TypedDict):
    provider: str
    livemode: bool
    max_attempts: int


class UsageBatchData(TypedDict):
    events: int
    late: int
    by_event_name: dict[str, int]
    customers: list[str]
    customer_count: int


class UsageRejectedData(TypedDict):
    request_id: str
    count: int
    rejected: list[dict[str, Any]]
    truncated: bool


class WebhookEndpointDisabledData(TypedDict):
    endpoint_id: str
    url: str
    reason: str


class WebhookTestData(TypedDict):
    endpoint_id: str
    message: str


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data: type


def _types(model: type, *entries: tuple[str, str]) -> list[EventType]:
    return [EventType(name, description, model) for name, description in entries]


CATALOGUE: list[EventType] = [
    *_types(TenantData, ("tenant.created", "A tenant was created.")),
    *_types(
        ApiKeyData,
        ("api_key.created", "An API key was created (the secret is never in an event)."),
        ("api_key.revoked", "An API key was revoked."),
    ),
    *_types(
        ProductData,
        ("product.created", "A product was created."),
        ("product.updated", "A product was changed."),
        ("product.archived", "A product was archived."),
    ),
    *_types(
        ProductGatewayStaleData,
        ("product.gateway_stale", "A product's gateway configuration drifted from Tollgate's (the diff says how)."),
    ),
    *_types(
        MeterData,
        ("meter.created", "A meter was created."),
        ("meter.updated", "A meter was changed."),
        ("meter.activated", "A meter was activated: its usage is billed."),
        ("meter.archived", "A meter was archived."),
    ),
    *_types(PlanData, ("plan.created", "A plan was created."), ("plan.updated", "A plan was changed.")),
    *_types(
        PlanVersionData,
        ("plan_version.created", "A draft plan version was created."),
        ("plan_version.updated", "A draft plan version was changed."),
        ("plan_version.published", "A plan version was published: new subscriptions get it."),
        ("plan_version.archived", "A plan version was archived."),
    ),
    *_types(
        CustomerData,
        ("customer.created", "A customer was created."),
        ("customer.updated", "A customer was changed."),
        ("customer.deleted", "A customer was deleted."),
    ),
    *_types(PaymentMethodData, ("customer.payment_method_updated", "A customer's default payment method changed.")),
    *_types(
        SubscriptionData,
        ("subscription.created", "A subscription was created."),
        ("subscription.activated", "A subscription's trial ended or it started: it is active."),
        ("subscription.upgraded", "A subscription moved to a dearer plan (prorated now)."),
        ("subscription.plan_changed", "A subscription's plan changed."),
        ("subscription.downgrade_scheduled", "A move to a cheaper plan was scheduled for the period end."),
        ("subscription.cancel_scheduled", "A cancellation was scheduled for the period end."),
        ("subscription.cancelled", "A subscription was cancelled."),
        ("subscription.past_due", "A subscription's invoice payment failed: it is past due."),
        ("subscription.reactivated", "A past-due subscription was paid up: it is active again."),
        ("subscription.migration_scheduled", "A subscription is scheduled to move to another plan version."),
        ("subscription.migrated", "A subscription moved to another plan version."),
        ("subscription.discount_applied", "A coupon was applied to a subscription."),
        ("subscription.discount_removed", "A coupon was removed from a subscription."),
    ),
    *_types(
        InvoiceData,
        ("invoice.finalized", "An invoice was finalized: its amounts are final and it is collected."),
        ("invoice.sent", "An invoice email was sent to the customer."),
        ("invoice.send_failed", "An invoice email could not be sent (the detail says why)."),
        ("invoice.paid", "An invoice was paid."),
        ("invoice.payment_failed", "A payment attempt of an invoice was declined."),
        ("invoice.payment_error", "A payment attempt could not be made (provider error); it is retried."),
        ("invoice.payment_after_settlement", "A payment arrived for an invoice already settled."),
        ("invoice.marked_uncollectible", "Dunning gave up: the invoice is uncollectible."),
        ("invoice.voided", "An invoice was voided."),
        ("invoice.failed", "An invoice could not be computed (the bill run recorded why)."),
    ),
    *_types(
        WalletData,
        ("wallet.created", "A prepaid credit wallet was created."),
        ("wallet.topped_up", "Credits were added to a wallet."),
    ),
    *_types(CreditNoteData, ("credit_note.created", "A credit note was issued against an invoice.")),
    *_types(GenericData, ("coupon.created", "A coupon was created.")),
    *_types(BillingSettingsData, ("billing_settings.updated", "The billing settings were changed.")),
    *_types(PaymentSettingsData, ("payment_settings.updated", "The payment settings were changed.")),
    *_types(GenericData, ("payment_intent.succeeded", "A hosted checkout saved a payment method.")),
    *_types(UsageBatchData, ("usage.batch_accepted", "A batch of usage events was accepted.")),
    *_types(UsageRejectedData, ("usage.events_rejected", "Usage events were rejected (each with its reason).")),
    # Gateway enforcement (issue 15): catalogued with generic data until their builders land.
    *_types(
        GenericData,
        ("entitlement.threshold_reached", "A customer's usage reached a threshold of an entitlement."),
        ("entitlement.limit_reached", "A customer's usage reached the limit of an entitlement: access is refused."),
        ("entitlement.reset", "An entitlement's usage was reset (a new period started)."),
        ("access.changed", "A customer's access at the gateway changed."),
    ),
    *_types(
        WebhookEndpointDisabledData,
        ("webhook_endpoint.disabled", "A webhook endpoint was disabled (410 Gone, or 5 days of failed attempts)."),
    ),
    *_types(WebhookTestData, ("webhook.test", "A test event sent by POST /v1/webhook-endpoints/{endpoint_id}/test.")),
]

BY_NAME: dict[str, EventType] = {t.name: t for t in CATALOGUE}
