"""The invoice PDF, laid out with fpdf2 (pure Python: no native library, runs as is on Lambda).

fpdf2 is imported inside ``render_invoice``, so a cold start of the API function that never prints an invoice
does not pay for it. Text uses PDF's core Helvetica font (nothing to embed, small files); it covers Latin-1,
so other characters (a customer named in another script) are printed as "?" rather than failing the request.
Pillow, which fpdf2 uses only to embed images, is not needed: the invoice has none (the Lambda layer leaves it
out: ``infra/layer_build.py``).
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tollgate.domain.billing.document import DocumentAmount, InvoiceDocument

if TYPE_CHECKING:
    from fpdf import FPDF

PDF = "application/pdf"
FONT = "Helvetica"
MARGIN = 15
GREY = (110, 110, 110)
LINE_WIDTHS = (92, 24, 32, 32)  # description, quantity, unit price, amount (mm; A4 less margins = 180)


# Typographic characters outside Latin-1 that have a plain equivalent.
_PLAIN = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u20ac": "EUR",
        "\u2192": "->",
    }
)


def latin1(text: str) -> str:
    """What the core fonts can print: NFKC-normalized, dashes and quotes made plain, anything else outside
    Latin-1 replaced by "?"."""
    plain = unicodedata.normalize("NFKC", text).translate(_PLAIN)
    return plain.encode("latin-1", "replace").decode("latin-1")


CELL_LIMIT = 200


def cell(text: str) -> str:
    """A table cell's text: one line (newlines, tabs and other whitespace runs collapsed to a space) of at
    most ``CELL_LIMIT`` characters; a many-line name or reason would be a row too high to print (fpdf2
    raises)."""
    flat = " ".join(latin1(text).split())
    return flat if len(flat) <= CELL_LIMIT else flat[: CELL_LIMIT - 3] + "..."


class FpdfInvoiceRenderer:
    media_type = PDF

    def render_invoice(self, document: InvoiceDocument) -> bytes:
        with warnings.catch_warnings():
            # fpdf2 warns once on import when Pillow is absent (as in the Lambda layer): images are not used here.
            warnings.simplefilter("ignore", UserWarning)
            from fpdf import FPDF

        pdf = FPDF(format="A4")
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(auto=True, margin=MARGIN + 5)
        pdf.set_title(latin1(document.title))
        pdf.set_author(latin1(document.issuer.name))
        pdf.set_creator("Tollgate")
        pdf.add_page()
        _stamp(pdf, document.stamp)
        _header(pdf, document)
        _lines(pdf, document)
        for heading, rows in (
            ("Discounts and credit", document.adjustments),
            ("Tax", document.taxes),
            ("Credit notes issued against this invoice", document.credit_notes),
        ):
            if rows:
                _amounts(pdf, heading, rows)
        _amounts(pdf, "Totals", document.totals, right=True)
        _footer(pdf, document)
        return bytes(pdf.output())


def _text(pdf: FPDF, text: str, *, size: float = 10, bold: bool = False, align: str = "L", color: Any = None) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*(color or (0, 0, 0)))
    pdf.multi_cell(0, size * 0.5, latin1(text), align=align, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)


def _stamp(pdf: FPDF, stamp: str | None) -> None:
    """A large light stamp across the page (DRAFT, VOID, ...), under everything else."""
    if not stamp:
        return
    pdf.set_font(FONT, "B", 80)
    pdf.set_text_color(225, 225, 225)
    width = pdf.get_string_width(stamp)
    x, y = (pdf.w - width) / 2, pdf.h / 2
    with pdf.rotation(35, x=pdf.w / 2, y=y):
        pdf.text(x, y, stamp)
    pdf.set_text_color(0, 0, 0)


def _header(pdf: FPDF, document: InvoiceDocument) -> None:
    issuer, recipient = document.issuer, document.recipient
    title = "INVOICE" + (f" - {document.stamp}" if document.stamp else "")
    _text(pdf, title, size=18, bold=True, align="R")
    _text(pdf, document.invoice_number, size=9, align="R", color=GREY)
    pdf.ln(4)
    _text(pdf, issuer.name, size=13, bold=True)
    for line in (*issuer.address, issuer.email or ""):
        if line:
            _text(pdf, line, size=9, color=GREY)
    pdf.ln(4)
    facts: list[tuple[str, str]] = [
        ("Bill to", recipient.name),
        *([("Email", recipient.email)] if recipient.email else []),
        *([("Customer reference", recipient.reference)] if recipient.reference else []),
        ("Invoice number", document.invoice_number),
        ("Status", document.status),
        ("Period", document.period),
        *((d.label, d.amount) for d in document.dates),
        ("Currency", document.currency),
    ]
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=(45, 135), first_row_as_headings=False, borders_layout="NONE", line_height=5) as table:
        for label, value in facts:
            row = table.row()
            row.cell(cell(label))
            row.cell(cell(value))
    pdf.ln(4)


def _lines(pdf: FPDF, document: InvoiceDocument) -> None:
    _text(pdf, "Lines", size=11, bold=True)
    pdf.set_font(FONT, "", 9)
    with pdf.table(
        col_widths=LINE_WIDTHS,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
    ) as table:
        heading = table.row()
        for name in ("Description", "Quantity", "Unit price", "Amount"):
            heading.cell(name)
        if not document.lines:
            table.row().cell("No charges for this period.", colspan=4)
        for line in document.lines:
            row = table.row()
            row.cell(("    " if line.detail else "") + cell(line.description))
            for value in (line.quantity, line.unit_price, line.amount):
                row.cell(cell(value))
    pdf.ln(3)


def _amounts(pdf: FPDF, heading: str, rows: Sequence[DocumentAmount], *, right: bool = False) -> None:
    from fpdf.fonts import FontFace

    _text(pdf, heading, size=11, bold=True)
    widths = (100, 80) if not right else (60, 80, 40)
    with pdf.table(
        col_widths=widths,
        text_align=("LEFT", "RIGHT") if not right else ("LEFT", "LEFT", "RIGHT"),
        first_row_as_headings=False,
        borders_layout="NONE",
        line_height=5,
    ) as table:
        for item in rows:
            style = FontFace(emphasis="BOLD", size_pt=10) if item.emphasis else None
            row = table.row()
            if right:
                row.cell("")
            row.cell(cell(item.label), style=style)
            row.cell(cell(item.amount), style=style)
    pdf.set_font(FONT, "", 9)
    pdf.ln(3)


def _footer(pdf: FPDF, document: InvoiceDocument) -> None:
    note = {
        "DRAFT": "DRAFT: not issued yet; amounts may change until the invoice is finalized.",
        "VOID": "VOID: this invoice was cancelled and is not owed.",
    }.get(document.status, "")
    if note:
        _text(pdf, note, size=9, bold=True)
    _text(pdf, f"Amounts in {document.currency}.", size=8, color=GREY)
