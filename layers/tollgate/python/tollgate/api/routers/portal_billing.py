"""The customer portal's usage dashboard and invoices (portal sessions only; see ``portal.py``).

Usage is read like ``GET /v1/usage`` and the gateway reads it for entitlements: per meter of the
subscription's plan version, for the current period (from the subscription's start for a cumulative
entitlement). Invoices are the customer's own, newest period first, and the upcoming invoice of each
live subscription (``GET /v1/subscriptions/{subscription_id}/upcoming-invoice``), and each issued invoice
as a PDF (the use case of ``GET /v1/invoices/{invoice_id}/pdf``).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.api.routers.invoices import PDF_RESPONSE, InvoiceOut, invoice_out, invoice_pdf_response
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict
from tollgate.usecases import invoicing
from tollgate.usecases import portal as cases
from tollgate.usecases.billing import preview_invoice

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]
PORTAL = requires(Permission.PORTAL_SELF, KeyKind.PORTAL)


class MeterUsage(ApiModel):
    meter_id: str
    name: str
    event_name: str
    aggregation: dict[str, Any]
    used: str = Field(description="Usage so far in the period (decimal string)")
    limit: str | None = Field(description="The entitlement's limit; null: no entitlement (unlimited)")
    hard: bool = Field(description="A hard limit blocks requests past it; a soft one bills the overage")
    reset: str = Field(description="PERIODIC (each period), CUMULATIVE or NEVER (since the subscription began)")
    from_: str = Field(alias="from")
    to: str
    series: list[dict[str, str]] = Field(description="Usage per day (per month for a cumulative entitlement)")


class SubscriptionUsage(ApiModel):
    subscription_id: str
    plan_id: str
    plan_version: int
    period: dict[str, str]
    as_of: str
    meters: list[MeterUsage]


class UsageOut(ApiModel):
    data: list[SubscriptionUsage]


@router.get(
    "/v1/portal/usage",
    openapi_extensions=PORTAL,
    tags=["portal", "usage"],
    summary="Usage against entitlements per meter for the current period, with a daily series (live subscriptions)",
)
def portal_usage(
    caller: Caller_,
    subscription_id: Annotated[str | None, Query(max_length=255, description="Default: every live one")] = None,
) -> UsageOut:
    repos = wiring.subscription_repos()
    subs = (
        [cases.own_subscription(repos, caller, subscription_id)]
        if subscription_id
        else [s for s in cases.customer_subscriptions(repos, caller) if s.live]
    )
    now = utcnow()
    data = [cases.usage_overview(repos, wiring.usage_store(), caller, s, now) for s in subs]
    return UsageOut.model_validate({"data": data})


class PortalInvoices(PageFields):
    upcoming: list[InvoiceOut] = Field(
        description="The invoice of each live subscription's current period so far (first page only)"
    )
    data: list[InvoiceOut] = Field(description="Issued invoices, newest period first")


@router.get(
    "/v1/portal/invoices",
    openapi_extensions=PORTAL,
    tags=["portal", "invoices"],
    summary="The customer's upcoming invoices and its past invoices, newest period first",
)
def portal_invoices(caller: Caller_, limit: Limit = 20, starting_after: StartingAfter = None) -> PortalInvoices:
    billing = wiring.billing_repos()
    upcoming = []
    if starting_after is None:
        for sub in cases.customer_subscriptions(wiring.subscription_repos(), caller):
            if not sub.live:
                continue
            try:
                upcoming.append(invoice_out(preview_invoice(billing, caller.tenant_id, sub.subscription_id)))
            except Conflict:
                continue  # ended meanwhile: no upcoming invoice
    page = invoicing.list_invoices(
        billing, caller.tenant_id, customer_id=caller.customer_id, limit=limit, cursor=starting_after
    )
    past = [invoice_out(i) for i in page.data if i.status.value not in ("DRAFT", "FAILED")]  # nothing billed yet
    return PortalInvoices(upcoming=upcoming, data=past, **page_fields(page))


@router.get(
    "/v1/portal/invoices/<invoice_id>",
    openapi_extensions=PORTAL,
    tags=["portal", "invoices"],
    summary="One of the customer's invoices with its lines (another customer's: 404)",
)
def portal_invoice(invoice_id: str, caller: Caller_) -> InvoiceOut:
    return invoice_out(cases.billed_invoice(wiring.billing_repos(), caller, invoice_id))


@router.get(
    "/v1/portal/invoices/<invoice_id>/pdf",
    openapi_extensions=PORTAL,
    tags=["portal", "invoices"],
    summary="One of the customer's invoices as a PDF, as GET /v1/invoices/{invoice_id}/pdf",
    responses=PDF_RESPONSE,  # type: ignore[arg-type]
)
def portal_invoice_pdf(invoice_id: str, caller: Caller_):  # no return annotation: bytes skip response validation
    cases.billed_invoice(wiring.billing_repos(), caller, invoice_id)  # a DRAFT or FAILED one: 404
    return invoice_pdf_response(caller.tenant_id, invoice_id, caller.customer_id)
