"""The invoice as a document for people: ``GET /v1/invoices/{invoice_id}/pdf`` (and the customer portal's route).

Reads the invoice (tenant-scoped; with ``customer_id``, only that customer's: another's answers 404 like any
unknown id), the tenant's Settings -> Finance (legal name, address), the customer and the credit notes issued
against the invoice, builds the pure ``InvoiceDocument`` and has the renderer lay it out."""

from __future__ import annotations

from tollgate.domain.billing.document import InvoiceDocument, Issuer, Recipient, invoice_document
from tollgate.ports import TenancyRepository
from tollgate.ports.documents import InvoiceRenderer
from tollgate.usecases.billing import BillingRepos
from tollgate.usecases.billing.bill import get_invoice


def build_invoice_document(
    repos: BillingRepos,
    tenants: TenancyRepository,
    tenant_id: str,
    invoice_id: str,
    *,
    customer_id: str | None = None,
) -> InvoiceDocument:
    invoice = get_invoice(repos, tenant_id, invoice_id, customer_id=customer_id)
    settings = repos.settings.get_settings(tenant_id)
    tenant = tenants.get_tenant(tenant_id)
    name = settings.legal_name or settings.sender_name or (tenant.name if tenant else "") or tenant_id
    customer = repos.customers.get(tenant_id, invoice.customer_id)
    recipient = (
        Recipient(customer.name or customer.external_id, customer.email, customer.external_id)
        if customer
        else Recipient(invoice.customer_id)
    )
    return invoice_document(
        invoice,
        issuer=Issuer(name, settings.address, settings.sender_email),
        recipient=recipient,
        credit_notes=repos.credit_notes.list_credit_notes(
            tenant_id, customer_id=invoice.customer_id, invoice_id=invoice_id
        ),
    )


def invoice_pdf(
    repos: BillingRepos,
    tenants: TenancyRepository,
    renderer: InvoiceRenderer,
    tenant_id: str,
    invoice_id: str,
    *,
    customer_id: str | None = None,
) -> bytes:
    """The rendered invoice (a DRAFT is marked DRAFT); NotFound for another tenant's or customer's invoice,
    Conflict for a FAILED one (nothing billed yet)."""
    document = build_invoice_document(repos, tenants, tenant_id, invoice_id, customer_id=customer_id)
    return renderer.render_invoice(document)
