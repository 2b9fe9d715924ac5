"""Invoices and credit notes (seed 000, "Billing & Invoices").

Customer keys read their own invoices and credit notes only (another customer's id answers 404).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from tollgate import wiring, wiring_portal
from tollgate.api.access import current_caller, requires
from tollgate.api.models import ApiModel
from tollgate.api.money_out import invoice_money, note_money
from tollgate.api.pagination import Limit, PageFields, StartingAfter, page_fields
from tollgate.domain.access import Caller, KeyKind, Permission
from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.invoices import Invoice
from tollgate.usecases import billing as cases
from tollgate.usecases import invoicing

router = Router()
Caller_ = Annotated[Caller, Depends(current_caller)]
READ = requires(Permission.BILLING_READ, KeyKind.OPERATOR, KeyKind.CUSTOMER)
WRITE = requires(Permission.BILLING_WRITE)


class InvoiceOut(ApiModel):
    id: str
    customer_id: str
    subscription_id: str
    status: str = Field(
        description="FAILED (last attempt failed: see error_code; retry), DRAFT, FINALIZED, PAID, VOID, UNCOLLECTIBLE"
    )
    currency: str
    period: dict[str, str | None]
    plan_id: str
    plan_version: int
    lines: list[dict[str, Any]] = Field(
        description="fees, usage (meter, quantity, included units, tier breakdown), prorations, "
        "minimum commitment, credit notes, tax, wallet; amounts are decimal strings"
    )
    totals: dict[str, Any]
    amount_due: str
    attribution: dict[str, Any] = Field(
        description="Usage attribution: the pipeline stages and the event windows behind each usage line"
    )
    created_at: str | None
    updated_at: str | None
    finalized_at: str | None
    due_at: str | None
    paid_at: str | None
    voided_at: str | None
    uncollectible_at: str | None
    error_code: str | None
    error_detail: str | None
    attempts: int
    consumed_charges: list[list[str]]
    revision: int
    payment_attempts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Every charge: number, at, outcome (succeeded, declined, error), decline_code, trigger",
    )
    payment_attempt_count: int = Field(
        default=0, description="Declines and successes (provider errors are not attempts)"
    )
    payment_id: str = ""
    delivery: dict[str, Any] | None = Field(
        default=None, description="The last invoice email attempt (GET of one invoice only)"
    )


class InvoiceList(PageFields):
    data: list[InvoiceOut]


class BillResultOut(ApiModel):
    invoice_id: str
    status: str = Field(description="INVOICED, ALREADY_INVOICED or FAILED")
    error_code: str | None
    detail: str
    invoice: InvoiceOut | None


class DeliveryOut(ApiModel):
    invoice_id: str
    status: str
    attempts: int
    last_attempt_at: str
    to: str | None
    sender: str | None
    message_id: str | None
    reason_code: str | None
    reason: str | None
    sent_at: str | None


class CreditNoteIn(ApiModel):
    invoice_id: str | None = None
    amount: str | None = Field(default=None, description='Decimal string, e.g. "12.50"')
    reason: str = Field(default="", max_length=500)


class CreditNoteOut(ApiModel):
    id: str
    customer_id: str
    invoice_id: str
    currency: str
    amount: str
    reason: str
    status: str = Field(description="AVAILABLE (credit left for the next invoices) or CONSUMED")
    applied_to_invoice: str
    balance: str
    consumed_by: list[dict[str, str]]
    created_at: str
    revision: int


class CreditNoteList(PageFields):
    data: list[CreditNoteOut]


def invoice_out(invoice: Invoice, delivery: dict | None = None) -> InvoiceOut:
    data = invoice_money(invoice.to_json())
    data.pop("tenant_id")
    return InvoiceOut.model_validate({**data, "delivery": delivery})


def note_out(note: CreditNote) -> CreditNoteOut:
    data = note_money(note.to_json())
    data.pop("tenant_id")
    return CreditNoteOut.model_validate(data)


def _own(caller: Caller) -> str | None:
    """A customer key sees its own customer's documents only."""
    return caller.customer_id if caller.kind is KeyKind.CUSTOMER else None


@router.get(
    "/v1/invoices",
    openapi_extensions=READ,
    tags=["invoices"],
    summary="List invoices: a customer's newest period first, the tenant's by invoice id",
)
def list_invoices(
    caller: Caller_,
    customer_id: Annotated[str | None, Query()] = None,
    subscription_id: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query(description="FAILED, DRAFT, FINALIZED, PAID, VOID, UNCOLLECTIBLE")] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> InvoiceList:
    own = _own(caller)
    if own is not None and customer_id not in (None, own):
        return InvoiceList(data=[], has_more=False)
    page = invoicing.list_invoices(
        wiring.billing_repos(),
        caller.tenant_id,
        customer_id=own or customer_id,
        subscription_id=subscription_id,
        status=status,
        limit=limit,
        cursor=starting_after,
    )
    return InvoiceList(data=[invoice_out(i) for i in page.data], **page_fields(page))


@router.get(
    "/v1/invoices/<invoice_id>",
    openapi_extensions=READ,
    tags=["invoices"],
    summary="An invoice: lines, totals, usage attribution (pipeline stages, event windows) and its last email attempt",
)
def get_invoice(invoice_id: str, caller: Caller_) -> InvoiceOut:
    repos = wiring.billing_repos()
    invoice = cases.get_invoice(repos, caller.tenant_id, invoice_id, customer_id=_own(caller))
    delivery = repos.invoices.get_delivery(caller.tenant_id, invoice_id)
    return invoice_out(invoice, delivery.to_json() if delivery else None)


PDF_RESPONSE = {
    200: {
        "description": "The invoice as a PDF (A4): the tenant's legal name and address (Settings -> Finance), the "
        "customer, the period, the lines (quantity, unit price, amount), discounts, tax, credit notes and totals "
        "in the currency's format. A DRAFT is marked DRAFT.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    404: {"description": "No such invoice for this tenant (or, for a customer key, for this customer) (NOT_FOUND)"},
    409: {"description": "The invoice is FAILED: nothing was billed yet; retry it first (INVOICE_NOT_PRINTABLE)"},
}


def invoice_pdf_response(tenant_id: str, invoice_id: str, customer_id: str | None) -> Response[bytes]:
    """The PDF answer, for this route and the customer portal's (``customer_id``: only that customer's invoice).
    Bytes: Powertools base64-encodes them and API Gateway (binary media types */*) sends them as they are."""
    from tollgate.usecases.invoicing.documents import invoice_pdf

    renderer = wiring_portal.invoice_renderer()
    pdf = invoice_pdf(
        wiring.billing_repos(), wiring.tenancy_repository(), renderer, tenant_id, invoice_id, customer_id=customer_id
    )
    return Response(
        200,
        renderer.media_type,
        pdf,
        headers={"Content-Disposition": f'inline; filename="{invoice_id}.pdf"', "Cache-Control": "private, no-store"},
    )


@router.get(
    "/v1/invoices/<invoice_id>/pdf",
    openapi_extensions=READ,
    tags=["invoices"],
    summary="The invoice as a PDF to download or print (a DRAFT is marked DRAFT)",
    responses=PDF_RESPONSE,  # type: ignore[arg-type]
)
def get_invoice_pdf(invoice_id: str, caller: Caller_):  # no return annotation: bytes skip response validation
    return invoice_pdf_response(caller.tenant_id, invoice_id, _own(caller))


@router.post(
    "/v1/invoices/<invoice_id>/send",
    openapi_extensions=WRITE,
    tags=["invoices"],
    summary="(Re)send the invoice email; a failure answers what is wrong and logs invoice.send_failed",
)
def send_invoice(invoice_id: str, caller: Caller_) -> DeliveryOut:
    result = cases.raise_for_failure(cases.send_invoice(wiring.billing_repos(), caller.tenant_id, invoice_id))
    return DeliveryOut.model_validate(result.delivery.to_json())


@router.post(
    "/v1/invoices/<invoice_id>/retry",
    openapi_extensions=WRITE,
    tags=["invoices"],
    summary="Reprocess one FAILED or DRAFT invoice (e.g. after TAX_CALCULATION_FAILED)",
)
def retry_invoice(invoice_id: str, caller: Caller_) -> BillResultOut:
    result = cases.retry_invoice(wiring.billing_repos(), caller.tenant_id, invoice_id)
    return BillResultOut(
        invoice_id=result.invoice_id,
        status=result.status,
        error_code=result.error_code,
        detail=result.detail,
        invoice=invoice_out(result.invoice) if result.invoice else None,
    )


@router.post(
    "/v1/invoices/<invoice_id>/void",
    openapi_extensions=WRITE,
    tags=["invoices"],
    summary="Void an invoice (gives back its wallet burn and credit-note credit)",
)
def void_invoice(invoice_id: str, caller: Caller_) -> InvoiceOut:
    return invoice_out(invoicing.void_invoice(wiring.billing_repos(), caller.tenant_id, invoice_id))


@router.post(
    "/v1/invoices/<invoice_id>/mark-uncollectible",
    openapi_extensions=WRITE,
    tags=["invoices"],
    summary="Write the invoice off",
)
def mark_uncollectible(invoice_id: str, caller: Caller_) -> InvoiceOut:
    return invoice_out(invoicing.mark_uncollectible(wiring.billing_repos(), caller.tenant_id, invoice_id))


@router.post(
    "/v1/invoices/<invoice_id>/mark-paid",
    openapi_extensions=WRITE,
    tags=["invoices"],
    summary="Record a payment of the amount due (paid outside Tollgate)",
)
def mark_paid(invoice_id: str, caller: Caller_) -> InvoiceOut:
    return invoice_out(invoicing.mark_paid(wiring.billing_repos(), caller.tenant_id, invoice_id))


# -- credit notes -----------------------------------------------------------------------------------------


@router.post(
    "/v1/credit-notes",
    openapi_extensions=WRITE,
    tags=["credit-notes"],
    summary="Credit an issued invoice: reduces its amount due (zero: PAID); the rest goes to the next invoices",
    responses={201: {"description": "Created", "content": {"application/json": {"model": CreditNoteOut}}}},
)
def create_credit_note(body: CreditNoteIn, caller: Caller_) -> Response[CreditNoteOut]:
    note = invoicing.create_credit_note(wiring.billing_repos(), caller.tenant_id, body.model_dump())
    return Response(201, "application/json", note_out(note))


@router.get("/v1/credit-notes", openapi_extensions=READ, tags=["credit-notes"], summary="List credit notes")
def list_credit_notes(
    caller: Caller_,
    customer_id: Annotated[str | None, Query()] = None,
    invoice_id: Annotated[str | None, Query()] = None,
    limit: Limit = 100,
    starting_after: StartingAfter = None,
) -> CreditNoteList:
    own = _own(caller)
    if own is not None and customer_id not in (None, own):
        return CreditNoteList(data=[], has_more=False)
    page = wiring.billing_repository().page_credit_notes(
        caller.tenant_id, customer_id=own or customer_id, invoice_id=invoice_id, limit=limit, cursor=starting_after
    )
    return CreditNoteList(data=[note_out(n) for n in page.data], **page_fields(page))


@router.get(
    "/v1/credit-notes/<credit_note_id>", openapi_extensions=READ, tags=["credit-notes"], summary="Get a credit note"
)
def get_credit_note(credit_note_id: str, caller: Caller_) -> CreditNoteOut:
    return note_out(
        invoicing.get_credit_note(wiring.billing_repos(), caller.tenant_id, credit_note_id, customer_id=_own(caller))
    )
