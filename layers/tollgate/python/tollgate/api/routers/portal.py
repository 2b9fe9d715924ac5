"""The customer portal API: what a customer API key (sk_live_…/sk_test_…) may see about itself."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import Field

from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.domain.access import Caller, KeyKind, Permission

router = Router()


class PortalMe(ApiModel):
    tenant_id: str
    customer_id: str | None
    subscription_id: str | None
    key_id: str
    livemode: bool


@router.get(
    "/v1/portal/me",
    openapi_extensions=requires(Permission.USAGE_READ, KeyKind.CUSTOMER),
    tags=["portal"],
    summary="Who this customer API key acts for (customer keys only)",
)
def portal_me(caller: Annotated[Caller, Depends(current_caller)]) -> PortalMe:
    return PortalMe(
        tenant_id=caller.tenant_id,
        customer_id=caller.customer_id,
        subscription_id=caller.subscription_id,
        key_id=caller.key_id,
        livemode=caller.livemode,
    )


class PortalPaymentMethodIn(ApiModel):
    payment_method: str = Field(min_length=4, max_length=255, description="A payment method id (pm_…).")


class PortalPaymentMethodOut(ApiModel):
    customer_id: str
    payment_method: str


@router.put(
    "/v1/portal/payment-method",
    openapi_extensions=requires(Permission.USAGE_READ, KeyKind.CUSTOMER),
    tags=["portal", "payments"],
    summary=(
        "Update this customer's payment method (seed 000: an outdated payment method keeps a subscription PAST_DUE)"
    ),
)
def portal_payment_method(
    body: PortalPaymentMethodIn, caller: Annotated[Caller, Depends(current_caller)]
) -> PortalPaymentMethodOut:
    from tollgate import wiring
    from tollgate.usecases import payments

    customer = payments.set_payment_method(
        wiring.payment_repos(), caller.tenant_id, caller.customer_id or "", body.model_dump()
    )
    return PortalPaymentMethodOut(customer_id=customer.customer_id, payment_method=customer.payment_method or "")
