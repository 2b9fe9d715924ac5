"""Payment settings and the Stripe webhook endpoint (seed 002: checkout, webhooks, test and live modes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import ConfigDict, Field

from tollgate import wiring
from tollgate.api.access import current_caller, public, requires
from tollgate.api.contract import json_body_schema
from tollgate.api.models import ApiModel
from tollgate.domain.access import Caller, Permission, echo
from tollgate.domain.errors import NotFound
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.usecases import payments as cases

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]


def _default_schedule() -> list[str | int]:
    return ["P3D", "P5D", "P7D"]


class PaymentSettingsIn(ApiModel):
    provider: Literal["sandbox", "stripe"] = Field(
        default="sandbox", description="sandbox: test payment methods, no money moves"
    )
    livemode: bool = Field(
        default=False, description="Stripe live mode (true) or test mode (false); must match the secret key"
    )
    stripe_secret_key: str | None = Field(default=None, description="Write-only. Omitted: the stored key is kept.")
    webhook_secret: str | None = Field(
        default=None, description="Write-only whsec_… signing secret of /v1/webhooks/stripe/{tenant}"
    )
    retry_schedule: list[str | int] = Field(
        default_factory=_default_schedule,
        description="Wait before each retry after a failed attempt: days, or ISO 8601 durations (P3D, PT1H)",
    )
    final_subscription_status: Literal["CANCELLED", "PAST_DUE"] = Field(
        default="CANCELLED",
        description="The subscription after the last failed attempt (its invoice becomes UNCOLLECTIBLE)",
    )
    grace_period_days: int = Field(
        default=3,
        ge=0,
        le=365,
        description=(
            "Days a failed payment keeps access (plan or customer metadata max_payment_overdue_days override it)"
        ),
    )


class PaymentSettingsOut(ApiModel):
    provider: str
    livemode: bool
    stripe_secret_key: str | None = Field(description="Masked")
    webhook_secret: str | None = Field(description="Masked")
    retry_schedule: list[str]
    final_subscription_status: str
    grace_period_days: int
    max_attempts: int
    webhook_url_path: str
    updated_at: str | None
    revision: int


def settings_out(s: PaymentSettings) -> PaymentSettingsOut:
    return PaymentSettingsOut(**s.to_json(reveal=False), webhook_url_path=f"/v1/webhooks/stripe/{s.tenant_id}")


@router.get(
    "/v1/settings/payments",
    openapi_extensions=requires(Permission.BILLING_READ),
    tags=["settings", "payments"],
    summary="Payment settings: provider, Stripe mode, dunning retry schedule, final state, grace period",
)
def get_payment_settings(caller: Caller_) -> PaymentSettingsOut:
    return settings_out(cases.get_payment_settings(wiring.payment_repos(), caller.tenant_id))


@router.put(
    "/v1/settings/payments",
    openapi_extensions=requires(Permission.BILLING_WRITE),
    tags=["settings", "payments"],
    summary="Replace the payment settings (omitted secrets are kept)",
)
def put_payment_settings(body: PaymentSettingsIn, caller: Caller_) -> PaymentSettingsOut:
    data: dict[str, Any] = body.model_dump(mode="json", exclude_unset=False)
    for secret in ("stripe_secret_key", "webhook_secret"):
        if secret not in body.model_fields_set:
            data.pop(secret)
    return settings_out(cases.put_payment_settings(wiring.payment_repos(), caller.tenant_id, data))


class WebhookOut(ApiModel):
    received: bool
    id: str
    type: str
    duplicate: bool
    applied: bool
    detail: str


class StripeEventObject(ApiModel):
    """The object a Stripe event is about (a PaymentIntent, a Checkout Session...), as Stripe sends it."""

    model_config = ConfigDict(extra="allow")
    id: str | None = None
    object: str | None = None


class StripeEventData(ApiModel):
    model_config = ConfigDict(extra="allow")
    object: StripeEventObject


class StripeWebhookEvent(ApiModel):
    """A Stripe event as Stripe posts it (only the fields Tollgate reads are described; the rest is kept)."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(description="evt_…: each event id is applied once")
    type: str = Field(description="payment_intent.succeeded, checkout.session.completed, …")
    livemode: bool = False
    data: StripeEventData


@router.post(
    "/v1/webhooks/stripe/<tenant_id>",
    openapi_extensions={**public(), **json_body_schema(StripeWebhookEvent)},
    tags=["payments"],
    summary="Stripe webhook endpoint of a tenant (signed with the tenant's whsec_ secret; no API key)",
    description=(
        "Verified with the stripe library (400 INVALID_SIGNATURE, nothing changed, when the Stripe-Signature header "
        "does not match); each event id is applied once (a redelivery answers duplicate=true); a live-mode event for "
        "a test-mode tenant (or the reverse) is refused with 400 LIVEMODE_MISMATCH. Handled: payment_intent.succeeded "
        "(the invoice is PAID, a PAST_DUE subscription ACTIVE), checkout.session.completed (the payment method is "
        "saved; with a plan_id in the session's metadata the customer is subscribed). Other types are recorded and "
        "change nothing."
    ),
)
def stripe_webhook(tenant_id: str) -> WebhookOut:
    from tollgate.usecases import subscriptions

    if wiring.tenancy_repository().get_tenant(tenant_id) is None:
        raise NotFound(f"Tenant not found: {echo(tenant_id)}. The webhook URL is /v1/webhooks/stripe/<your tenant id>.")
    event = router.current_event
    payload = event.decoded_body if event.is_base64_encoded else (event.body or "")
    signature = event.get_header_value("Stripe-Signature", case_sensitive=False)

    def subscribe(tenant: str, data: dict[str, Any]) -> None:
        subscriptions.create_subscription(wiring.subscription_repos(), tenant, data)

    result = cases.handle_stripe_webhook(
        wiring.payment_repos(), tenant_id, payload or "", signature, subscribe=subscribe
    )
    return WebhookOut(**result.to_json())
