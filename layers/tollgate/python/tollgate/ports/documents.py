"""Rendering documents for people (the invoice PDF): the domain builds the document, an adapter lays it out."""

from __future__ import annotations

from typing import Protocol

from tollgate.domain.billing.document import InvoiceDocument


class InvoiceRenderer(Protocol):
    #: The media type of what ``render_invoice`` returns (``application/pdf``).
    media_type: str

    def render_invoice(self, document: InvoiceDocument) -> bytes: ...
