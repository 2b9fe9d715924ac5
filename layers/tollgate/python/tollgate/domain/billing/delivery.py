"""Invoice email: who it goes to, from whom, what it says, and the record of each attempt.

An invoice is emailed from the tenant's configured sender (``PUT /v1/settings/billing``) to the
customer's email. Each attempt is recorded on the invoice's delivery record and published to the
billing event log: ``invoice.sent``, or ``invoice.send_failed`` with ``reason_code`` (a
``SendFailure``) and a ``reason`` saying what to fix. ``POST /v1/invoices/{id}/send`` resends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain


class DeliveryStatus(StrEnum):
    """The outcome of the last attempt to email an invoice."""

    SENT = "SENT"
    FAILED = "FAILED"


SENDABLE = frozenset({InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE})


@dataclass(frozen=True)
class InvoiceDelivery:
    tenant_id: str
    invoice_id: str
    status: DeliveryStatus  # of the last attempt
    attempts: int
    last_attempt_at: datetime
    to: str | None = None
    sender: str | None = None
    message_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    sent_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "status": self.status.value,
            "attempts": self.attempts,
            "last_attempt_at": to_rfc3339(self.last_attempt_at),
            "to": self.to,
            "sender": self.sender,
            "message_id": self.message_id,
            "reason_code": self.reason_code,
            "reason": self.reason,
            "sent_at": to_rfc3339(self.sent_at) if self.sent_at else None,
        }

    @classmethod
    def from_json(cls, tenant_id: str, d: dict[str, Any]) -> InvoiceDelivery:
        return cls(
            tenant_id=tenant_id,
            invoice_id=d["invoice_id"],
            status=DeliveryStatus(d["status"]),
            attempts=int(d.get("attempts") or 0),
            last_attempt_at=parse_rfc3339(d["last_attempt_at"]),
            to=d.get("to"),
            sender=d.get("sender"),
            message_id=d.get("message_id"),
            reason_code=d.get("reason_code"),
            reason=d.get("reason"),
            sent_at=parse_rfc3339(d["sent_at"]) if d.get("sent_at") else None,
        )


def invoice_email(invoice: Invoice, customer_name: str, sender_name: str) -> tuple[str, str]:
    """(subject, plain-text body) of the invoice email."""
    period = f"{invoice.period_start.date().isoformat()} to {invoice.period_end.date().isoformat()}"
    due = invoice.due_at.date().isoformat() if invoice.due_at else "on receipt"
    subject = f"Invoice {invoice.invoice_id}: {plain(invoice.totals.total)} {invoice.currency} ({period})"
    body = [f"Hello {customer_name or 'there'},", "", f"Your invoice for {period}:", ""]
    body += [f"  {ln.description}: {plain(ln.amount)} {invoice.currency}" for ln in invoice.lines]
    body += [
        "",
        f"Total: {plain(invoice.totals.total)} {invoice.currency}",
        f"Amount due: {plain(invoice.amount_due)} {invoice.currency} (due {due})",
        "",
        f"-- {sender_name}" if sender_name else "--",
    ]
    return subject, "\n".join(body)
