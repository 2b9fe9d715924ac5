"""The invoice document (tollgate.domain.billing.document) and its PDF rendering (tollgate.adapters.pdf)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tollgate.adapters.pdf import FpdfInvoiceRenderer, latin1
from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.document import (
    DocumentAmount,
    DocumentLine,
    Issuer,
    Recipient,
    invoice_document,
    money_display,
)
from tollgate.domain.billing.invoices import Invoice, InvoiceLine, InvoiceStatus, LineKind, totals_of
from tollgate.domain.errors import Conflict

JAN, FEB = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
ISSUER = Issuer("Vendor Labs Ltd", ("1 Long Street", "London EC1A 1AA"), "billing@vendor.example")
RECIPIENT = Recipient("Ada Lovelace", "ada@example.com", "ext-ada")
TIERS = [
    {"tier": 1, "units": "10000", "unit_amount": "0.05", "flat_amount": "0", "amount": "500.00"},
    {"tier": 2, "units": "14000", "unit_amount": "0.0525", "flat_amount": "0", "amount": "735.00"},
]
LINES = (
    InvoiceLine(LineKind.FEE, "Platform fee (in advance)", Decimal("49.00"), {"unit_amount": "49"}),
    InvoiceLine(
        LineKind.USAGE,
        "API calls (api.call)",
        Decimal("1235.00"),
        {"quantity": "25000", "included_units": "1000", "breakdown": TIERS},
    ),
    InvoiceLine(
        LineKind.USAGE,
        "Storage (gb.stored)",
        Decimal("12.50"),
        {"quantity": "125", "included_units": "0", "breakdown": [{"units": "125", "unit_amount": "0.1"}]},
    ),
    InvoiceLine(LineKind.DISCOUNT, "Coupon LAUNCH (10%)", Decimal("-129.65")),
    InvoiceLine(LineKind.CREDIT_NOTE, "Credit from cn_old", Decimal("-5.00"), {"credit_note_id": "cn_old"}),
    InvoiceLine(LineKind.TAX, "VAT 20%", Decimal("232.37"), {"rate_percent": "20", "taxable_amount": "1161.85"}),
)


def invoice(status: InvoiceStatus = InvoiceStatus.FINALIZED, currency: str = "USD", lines=LINES, **fields) -> Invoice:
    return Invoice(
        "inv_1", "ten_1", "cus_1", "sub_1", currency, JAN, FEB, status, FEB, FEB,
        lines=tuple(lines), totals=totals_of(lines), finalized_at=FEB if status is not InvoiceStatus.DRAFT else None,
        **fields,
    )  # fmt: skip


def note(note_id: str, invoice_id: str, amount: str) -> CreditNote:
    return CreditNote(note_id, "ten_1", "cus_1", invoice_id, "USD", Decimal(amount), "Goodwill", FEB)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("1234.5", "USD", "USD 1,234.50"),
        ("0", "USD", "USD 0.00"),
        ("-128.35", "USD", "USD -128.35"),
        ("1200", "JPY", "JPY 1,200"),
        ("1234567.125", "KWD", "KWD 1,234,567.125"),
        ("0.0525", "USD", "USD 0.0525"),  # a unit price finer than cents keeps its digits
        (Decimal("1E+3"), "EUR", "EUR 1,000.00"),
    ],
)
def test_money_is_shown_in_the_currencys_format(amount, currency, shown):
    assert money_display(amount, currency) == shown


def test_lines_show_quantity_unit_price_and_amount_with_tiers_as_detail_rows():
    doc = invoice_document(invoice(), issuer=ISSUER, recipient=RECIPIENT)
    assert doc.lines == (
        DocumentLine("Platform fee (in advance)", "1", "USD 49.00", "USD 49.00"),
        DocumentLine("API calls (api.call)", "25,000", "", "USD 1,235.00"),
        DocumentLine("Included units: 1,000", detail=True),
        DocumentLine("Tier 1", "10,000", "USD 0.05", "USD 500.00", detail=True),
        DocumentLine("Tier 2", "14,000", "USD 0.0525", "USD 735.00", detail=True),
        DocumentLine("Storage (gb.stored)", "125", "USD 0.10", "USD 12.50"),
    )
    assert doc.adjustments == (
        DocumentAmount("Coupon LAUNCH (10%)", "USD -129.65"),
        DocumentAmount("Credit from cn_old", "USD -5.00"),
    )
    assert doc.taxes == (DocumentAmount("VAT 20% on USD 1,161.85", "USD 232.37"),)
    assert (doc.issuer, doc.recipient, doc.invoice_number, doc.period) == (
        ISSUER,
        RECIPIENT,
        "inv_1",
        "2026-01-01 to 2026-02-01",
    )


def test_totals_and_credit_notes_issued_against_the_invoice():
    paid = invoice(status=InvoiceStatus.FINALIZED)
    totals = paid.totals
    # A credit note of 100.00 issued after finalization: in credit_notes (with the 5.00 carried), credited, applied.
    after = {"credit_notes": totals.credit_notes + 100, "credited": Decimal(100), "credit_applied": Decimal(100)}
    settled = replace(paid, totals=replace(totals, **after))
    doc = invoice_document(
        settled,
        issuer=ISSUER,
        recipient=RECIPIENT,
        credit_notes=[note("cn_2", "inv_1", "100.00"), note("cn_other", "inv_2", "7.00")],
    )
    assert doc.credit_notes == (DocumentAmount("Credit note cn_2 (2026-02-01): Goodwill", "USD -100.00"),)
    assert doc.totals == (
        DocumentAmount("Subtotal", "USD 1,296.50"),
        DocumentAmount("Discounts", "USD -129.65"),
        DocumentAmount("Credit", "USD -5.00"),
        DocumentAmount("Tax", "USD 232.37"),
        DocumentAmount("Total", "USD 1,394.22", emphasis=True),
        DocumentAmount("Credit notes applied", "USD -100.00"),
        DocumentAmount("Amount due", "USD 1,294.22", emphasis=True),
    )
    assert doc.stamp is None and doc.dates == (DocumentAmount("Issued", "2026-02-01"),)


def test_a_draft_is_stamped_draft_and_a_failed_invoice_is_no_document():
    assert invoice_document(invoice(InvoiceStatus.DRAFT), issuer=ISSUER, recipient=RECIPIENT).stamp == "DRAFT"
    assert invoice_document(invoice(InvoiceStatus.VOID), issuer=ISSUER, recipient=RECIPIENT).stamp == "VOID"
    failed = invoice(InvoiceStatus.FAILED, lines=(), error_code="TAX_CALCULATION_FAILED")
    with pytest.raises(Conflict) as err:
        invoice_document(failed, issuer=ISSUER, recipient=RECIPIENT)
    assert err.value.code == "INVOICE_NOT_PRINTABLE" and "POST /v1/invoices/inv_1/retry" in err.value.detail


def test_the_pdf_carries_the_document_text():
    doc = invoice_document(invoice(InvoiceStatus.DRAFT), issuer=ISSUER, recipient=RECIPIENT)
    pdf = FpdfInvoiceRenderer().render_invoice(doc)
    assert pdf.startswith(b"%PDF-")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in (
        "INVOICE - DRAFT",
        "Vendor Labs Ltd",
        "London EC1A 1AA",
        "Bill to Ada Lovelace",
        "Platform fee (in advance) 1 USD 49.00 USD 49.00",
        "Tier 2 14,000 USD 0.0525 USD 735.00",
        "VAT 20% on USD 1,161.85 USD 232.37",
        "Total USD 1,394.22",
        "Amount due USD 1,394.22",
    ):
        assert expected in text, expected


def test_text_outside_latin1_is_printed_not_refused():
    assert latin1("Zürich \u2013 \u201cAcme\u201d 5 \u20ac") == 'Zürich - "Acme" 5 EUR'
    assert latin1("Ωmega 株式会社") == "?mega ????"
    doc = invoice_document(
        invoice(), issuer=Issuer("株式会社 Vendor"), recipient=Recipient("Ωmega \U0001f600"), credit_notes=()
    )
    assert "Vendor" in PdfReader(io.BytesIO(FpdfInvoiceRenderer().render_invoice(doc))).pages[0].extract_text()


def test_renders_without_pillow_as_in_the_lambda_layer():
    """infra/layer_build.py leaves Pillow out of the Lambda layer: rendering must not need it."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['PIL'] = None\n"
        "from tests.unit.test_invoice_document import ISSUER, RECIPIENT, invoice\n"
        "from tollgate.adapters.pdf import FpdfInvoiceRenderer\n"
        "from tollgate.domain.billing.document import invoice_document\n"
        "pdf = FpdfInvoiceRenderer().render_invoice(invoice_document(invoice(), issuer=ISSUER, recipient=RECIPIENT))\n"
        "assert pdf.startswith(b'%PDF-') and 'PIL' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_issuer_is_the_legal_name_else_the_sender_name_else_the_tenant_name():
    from types import SimpleNamespace

    from tollgate.domain.billing.settings import BillingSettings
    from tollgate.domain.customers import Customer
    from tollgate.domain.errors import NotFound
    from tollgate.domain.tenants import Tenant
    from tollgate.usecases.invoicing.documents import build_invoice_document

    def issuer_of(settings: BillingSettings, customer_id: str | None = None):
        repos = SimpleNamespace(
            invoices=SimpleNamespace(get_invoice=lambda t, i: invoice() if (t, i) == ("ten_1", "inv_1") else None),
            settings=SimpleNamespace(get_settings=lambda t: settings),
            customers=SimpleNamespace(get=lambda t, c: Customer(c, t, "ext-ada", FEB, name="Ada", email="a@x.example")),
            credit_notes=SimpleNamespace(list_credit_notes=lambda t, **kw: [note("cn_1", "inv_1", "1.00")]),
        )
        tenants = SimpleNamespace(get_tenant=lambda t: Tenant(t, "Tenant Co", FEB))
        doc = build_invoice_document(repos, tenants, "ten_1", "inv_1", customer_id=customer_id)
        assert doc.recipient == Recipient("Ada", "a@x.example", "ext-ada") and len(doc.credit_notes) == 1
        return doc.issuer

    full = BillingSettings("ten_1", sender_email="b@v.example", sender_name="Vendor", legal_name="Vendor Ltd",
                           address=("1 Long Street",))  # fmt: skip
    assert issuer_of(full) == Issuer("Vendor Ltd", ("1 Long Street",), "b@v.example")
    assert issuer_of(BillingSettings("ten_1", sender_name="Vendor")).name == "Vendor"
    assert issuer_of(BillingSettings("ten_1")).name == "Tenant Co"
    with pytest.raises(NotFound):  # a customer key of another customer
        issuer_of(BillingSettings("ten_1"), customer_id="cus_other")


def test_names_and_reasons_full_of_newlines_still_print():
    """Issue 21 review: a table cell of many lines was "row too high" (500); cells print one capped line."""
    long_note = replace(note("cn_2", "inv_1", "1.00"), reason="why\n" * 125)
    doc = invoice_document(
        invoice(), issuer=ISSUER, recipient=Recipient("A\n" * 60, "a@x.example"), credit_notes=[long_note]
    )
    text = PdfReader(io.BytesIO(FpdfInvoiceRenderer().render_invoice(doc))).pages[0].extract_text()
    assert "Bill to A A A" in text and "Credit note cn_2 (2026-02-01): why why" in text
