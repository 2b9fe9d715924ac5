"""Issue 21: GET /v1/invoices/{invoice_id}/pdf over HTTP. The downloaded bytes are a real PDF whose text (read
back with pypdf) has the tenant's legal name and address, the customer, the lines, the tax, the credit note and
the totals in the currency's format; a DRAFT is marked DRAFT; another tenant's invoice is a 404 problem."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tests.e2e import builders
from tests.e2e.billing_kit import bill, ended_subscription, own_tenant, tenant_of
from tests.e2e.builders import ok

pytestmark = pytest.mark.e2e

FINANCE = {
    "sender_name": "Vendor",
    "legal_name": "Vendor Labs Ltd",
    "address": ["1 Long Street", "London EC1A 1AA", "United Kingdom"],
    "tax": {"mode": "EXCLUSIVE", "rates": [{"name": "VAT", "rate_percent": "20"}]},
}


def usd(amount: str) -> str:
    return f"USD {Decimal(amount).quantize(Decimal('0.01')):,f}"


def pdf_text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.headers["x-request-id"]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


@pytest.fixture(scope="module")
def vendor(server):
    t = own_tenant(server, "pdf vendor")
    ok(t.put("/v1/settings/billing", json=FINANCE))
    return t


def test_a_finalized_invoice_downloads_as_a_pdf_with_its_lines_tax_credit_note_and_totals(server, vendor):
    cust = builders.customer(vendor, name="Ada Lovelace", email="ada@analytical.example")
    sub = ended_subscription(vendor, cust["id"], builders.plan(vendor, fee="1234.50")["id"])
    invoice_id = bill(tenant_of(vendor), sub["id"], send=False).invoice_id
    ok(vendor.post("/v1/credit-notes", json={"invoice_id": invoice_id, "amount": "100.00", "reason": "Goodwill"}), 201)
    invoice = ok(vendor.get(f"/v1/invoices/{invoice_id}"))
    text = pdf_text(vendor.get(f"/v1/invoices/{invoice_id}/pdf"))

    for expected in ("Vendor Labs Ltd", "1 Long Street", "London EC1A 1AA", "Ada Lovelace", invoice_id, "FINALIZED"):
        assert expected in text, expected
    fees = [ln for ln in invoice["lines"] if ln["kind"] == "fee"]
    assert fees
    for line in fees:
        assert f"{line['description']} 1 USD 1,234.50 USD 1,234.50" in text  # description, quantity, unit, amount
    (tax,) = [ln for ln in invoice["lines"] if ln["kind"] == "tax"]
    assert f"VAT 20% on {usd(tax['taxable_amount'])} {usd(tax['amount'])}" in text
    assert "Credit note" in text and "Goodwill" in text and "USD -100.00" in text
    assert f"Total {usd(invoice['totals']['total'])}" in text  # USD 2,962.80: two fees + 20 % VAT
    assert "Credit notes applied USD -100.00" in text
    assert f"Amount due {usd(invoice['amount_due'])}" in text


def test_a_draft_invoice_is_marked_draft(server, vendor):
    cust = builders.customer(vendor, name="Grace Hopper")
    sub = ended_subscription(vendor, cust["id"], builders.plan(vendor, fee="10.00")["id"])
    result = bill(tenant_of(vendor), sub["id"], finalize=False, send=False)
    assert ok(vendor.get(f"/v1/invoices/{result.invoice_id}"))["status"] == "DRAFT"
    text = pdf_text(vendor.get(f"/v1/invoices/{result.invoice_id}/pdf"))
    assert "INVOICE - DRAFT" in text and "Status DRAFT" in text and "Grace Hopper" in text


def test_another_tenants_or_customers_invoice_is_not_found(server, vendor):
    cust = builders.customer(vendor)
    sub = ended_subscription(vendor, cust["id"], builders.plan(vendor, fee="5.00")["id"])
    invoice_id = bill(tenant_of(vendor), sub["id"], send=False).invoice_id
    # A customer key downloads its own invoices only (the portal's use of the same use case).
    for customer_id, status in ((cust["id"], 200), (builders.customer(vendor)["id"], 404)):
        key = ok(vendor.post("/v1/api-keys", json={"kind": "customer", "customer_id": customer_id}), 201)["secret"]
        headers = {"Authorization": f"Bearer {key}", "X-Tenant-Id": tenant_of(vendor)}
        assert vendor.get(f"/v1/invoices/{invoice_id}/pdf", headers=headers).status_code == status
    other = own_tenant(server, "pdf other tenant")
    r = other.get(f"/v1/invoices/{invoice_id}/pdf")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "NOT_FOUND" and invoice_id in r.json()["detail"]
    assert vendor.get("/v1/invoices/inv_nope/pdf").status_code == 404
