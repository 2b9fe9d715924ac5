"""Customers: CRUD by id and by external id."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.fields import ExternalId, Identifier, MetadataValue, Name
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, Permission
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.customers import Customer
from tollgate.domain.paging import MAX_CURSOR_LENGTH
from tollgate.usecases import customers as cases

router = Router()


def _answer(status: int, model: ApiModel) -> Response:
    """A JSON response with a status other than 200 (the route's ``responses`` documents its model)."""
    return Response(status, "application/json", model.model_dump(mode="json"))


Email = Annotated[str, Field(max_length=254)]
Code = Annotated[str, Field(min_length=1, max_length=64)]  # a currency code or an IANA time zone
MetadataKey = Annotated[str, Field(min_length=1, max_length=40)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]


class CustomerIn(ApiModel):
    external_id: ExternalId = Field(description="Your id for this customer (unique per tenant).")
    name: Name = ""
    email: Email | None = None
    currency: Code = Field(default="USD", description="ISO 4217 code the customer is billed in.")
    timezone: Code = Field(default="UTC", description="IANA time zone: billing periods follow its midnight.")
    metadata: dict[MetadataKey, MetadataValue] = Field(
        default_factory=dict,
        description="Up to 50 keys; `max_payment_overdue_days` sets a payment grace period (0 to 365 days).",
    )


class CustomerPatch(ApiModel):
    external_id: ExternalId | None = None
    name: Name | None = None
    email: Email | None = None
    currency: Code | None = None
    timezone: Code | None = None
    metadata: dict[MetadataKey, MetadataValue | None] | None = Field(
        default=None, description="The keys to set; a null value removes the key."
    )


class CustomerOut(ApiModel):
    id: str
    external_id: str
    name: str
    email: str | None
    currency: str
    timezone: str
    metadata: dict[str, str]
    payment_method: str | None = Field(
        default=None, description="The default payment method charged for invoices (pm_…)."
    )
    provider_customer_id: str | None = Field(
        default=None, description="The payment provider's customer (Stripe: cus_…)."
    )
    created_at: str


class CustomerList(PageFields):
    data: list[CustomerOut]


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(
        id=c.customer_id,
        external_id=c.external_id,
        name=c.name,
        email=c.email,
        currency=c.currency,
        timezone=c.timezone,
        metadata=c.metadata,
        payment_method=c.payment_method,
        provider_customer_id=c.provider_customer_id,
        created_at=to_rfc3339(c.created_at),
    )


class PaymentMethodIn(ApiModel):
    payment_method: str = Field(
        min_length=4,
        max_length=255,
        description="A payment method id (Stripe: pm_…; sandbox: pm_card_visa, pm_card_chargeDeclined, …).",
    )


class CheckoutIn(ApiModel):
    success_url: Url
    cancel_url: Url
    plan_id: Identifier | None = Field(
        default=None, description="Subscribe the customer to this plan when checkout completes."
    )
    idempotency_key: str | None = Field(
        default=None, max_length=200, description="The same key returns the same session."
    )


class CheckoutOut(ApiModel):
    id: str
    url: str
    provider_customer_id: str | None


@router.put(
    "/v1/customers/<customer_id>/payment-method",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["customers", "payments"],
    summary="Set the customer's default payment method (used by the next dunning attempt or retry-payment)",
)
def set_payment_method(
    customer_id: str, body: PaymentMethodIn, caller: Annotated[Caller, Depends(current_caller)]
) -> CustomerOut:
    from tollgate.usecases import payments

    return customer_out(
        payments.set_payment_method(wiring.payment_repos(), caller.tenant_id, customer_id, body.model_dump())
    )


@router.post(
    "/v1/customers/<customer_id>/checkout-sessions",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["customers", "payments"],
    summary="A hosted checkout page for the customer's first payment method (Stripe Checkout, setup mode)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CheckoutOut}}}},
)
def create_checkout(
    customer_id: str, body: CheckoutIn, caller: Annotated[Caller, Depends(current_caller)]
) -> Response[CheckoutOut]:
    from tollgate.usecases import payments

    session = payments.create_checkout(wiring.payment_repos(), caller.tenant_id, customer_id, body.model_dump())
    out = CheckoutOut(id=session.session_id, url=session.url, provider_customer_id=session.provider_customer_id)
    return _answer(201, out)


@router.post(
    "/v1/customers",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["customers"],
    summary="Create a customer",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CustomerOut}}}},
)
def create_customer(body: CustomerIn, caller: Annotated[Caller, Depends(current_caller)]) -> Response[CustomerOut]:
    customer = cases.create_customer(wiring.customer_repository(), caller.tenant_id, body.model_dump())
    return _answer(201, customer_out(customer))


@router.get(
    "/v1/customers",
    openapi_extensions=requires(Permission.CUSTOMERS_READ),
    tags=["customers"],
    summary="List customers",
)
def list_customers(
    caller: Annotated[Caller, Depends(current_caller)],
    limit: Limit = 50,
    starting_after: StartingAfter = None,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=MAX_CURSOR_LENGTH, description="Deprecated: `starting_after`.")
    ] = None,
) -> CustomerList:
    page = cases.list_customers(
        wiring.customer_repository(), caller.tenant_id, limit=limit, cursor=starting_after or cursor
    )
    return CustomerList(data=[customer_out(c) for c in page.data], **page_fields(page))


@router.get(
    "/v1/customers/<customer_id>",
    openapi_extensions=requires(Permission.CUSTOMERS_READ),
    tags=["customers"],
    summary="Get a customer",
)
def get_customer(customer_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> CustomerOut:
    return customer_out(cases.get_customer(wiring.customer_repository(), caller.tenant_id, customer_id))


@router.get(
    "/v1/customers/external/<external_id>",
    openapi_extensions=requires(Permission.CUSTOMERS_READ),
    tags=["customers"],
    summary="Get a customer by your external id",
)
def get_customer_by_external_id(external_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> CustomerOut:
    return customer_out(cases.get_customer_by_external_id(wiring.customer_repository(), caller.tenant_id, external_id))


@router.patch(
    "/v1/customers/<customer_id>",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["customers"],
    summary="Update a customer",
)
def update_customer(
    customer_id: str, body: CustomerPatch, caller: Annotated[Caller, Depends(current_caller)]
) -> CustomerOut:
    changes = body.model_dump(exclude_unset=True)
    return customer_out(cases.update_customer(wiring.customer_repository(), caller.tenant_id, customer_id, changes))


@router.delete(
    "/v1/customers/<customer_id>",
    openapi_extensions=requires(Permission.CUSTOMERS_WRITE),
    tags=["customers"],
    summary="Delete a customer (409 while it has live subscriptions or open invoices)",
)
def delete_customer(customer_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> CustomerOut:
    from tollgate.adapters.dynamodb.billables import DynamoBillableCheck

    billable = DynamoBillableCheck(wiring.subscription_repository())
    return customer_out(cases.delete_customer(wiring.customer_repository(), billable, caller.tenant_id, customer_id))
