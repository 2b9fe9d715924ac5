"""Credit notes: credit issued against a finalized invoice.

- A credit note is created against a FINALIZED, PAID or UNCOLLECTIBLE invoice, in its currency, for
  an amount > 0 and at most what the invoice can still be credited (its total less the credit notes
  already issued against it).
- It is applied at once to the invoice's amount due: the amount due goes down by up to the credit
  note's amount, and an invoice brought to zero is PAID.
- What the invoice could not absorb (it was already paid, or owed less) stays on the credit note as
  ``balance`` and is carried to the customer's next invoices in that currency: the "credit notes"
  stage of the billing pipeline consumes balances oldest first, before tax.
- An invoice consumes at most ``MAX_NOTES_PER_INVOICE`` credit notes: the invoice, the notes it consumes,
  the wallet, the subscription and the invoice's events are written in one DynamoDB transaction, which
  takes at most 100 items. The notes left keep their balance for the customer's next invoices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tollgate.domain.billing.invoices import InvoiceLine, LineKind
from tollgate.domain.clock import parse_rfc3339, to_rfc3339
from tollgate.domain.money import plain

# TransactWriteItems takes 100 items; the finalize write adds the invoice, the wallet, the subscription
# and up to two events (finalized, paid) to the notes it consumes: 50 leaves room for more of those.
MAX_NOTES_PER_INVOICE = 50
ZERO = Decimal(0)


class CreditNoteStatus(StrEnum):
    AVAILABLE = "AVAILABLE"  # some credit is left for the customer's next invoices
    CONSUMED = "CONSUMED"  # all of it went to invoices


@dataclass(frozen=True)
class CreditNote:
    credit_note_id: str
    tenant_id: str
    customer_id: str
    invoice_id: str
    currency: str
    amount: Decimal
    reason: str
    created_at: datetime
    applied_to_invoice: Decimal = ZERO  # absorbed by the invoice it was issued against
    balance: Decimal = ZERO  # left for later invoices
    consumed_by: tuple[tuple[str, str], ...] = ()  # (invoice id, amount) of later invoices
    revision: int = 1

    @property
    def status(self) -> CreditNoteStatus:
        return CreditNoteStatus.AVAILABLE if self.balance > 0 else CreditNoteStatus.CONSUMED

    def consumed(self, invoice_id: str, amount: Decimal) -> CreditNote:
        return replace(
            self,
            balance=self.balance - amount,
            consumed_by=(*self.consumed_by, (invoice_id, plain(amount))),
            revision=self.revision + 1,
        )

    def restored(self, invoice_id: str) -> CreditNote:
        """Give back what ``invoice_id`` consumed (the invoice was voided)."""
        back = sum((Decimal(a) for i, a in self.consumed_by if i == invoice_id), ZERO)
        return replace(
            self,
            balance=self.balance + back,
            consumed_by=tuple(c for c in self.consumed_by if c[0] != invoice_id),
            revision=self.revision + 1,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.credit_note_id,
            "tenant_id": self.tenant_id,
            "customer_id": self.customer_id,
            "invoice_id": self.invoice_id,
            "currency": self.currency,
            "amount": plain(self.amount),
            "reason": self.reason,
            "status": self.status.value,
            "applied_to_invoice": plain(self.applied_to_invoice),
            "balance": plain(self.balance),
            "consumed_by": [{"invoice_id": i, "amount": a} for i, a in self.consumed_by],
            "created_at": to_rfc3339(self.created_at),
            "revision": self.revision,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CreditNote:
        return cls(
            credit_note_id=d["id"],
            tenant_id=d["tenant_id"],
            customer_id=d["customer_id"],
            invoice_id=d["invoice_id"],
            currency=d["currency"],
            amount=Decimal(str(d["amount"])),
            reason=d.get("reason") or "",
            created_at=parse_rfc3339(d["created_at"]),
            applied_to_invoice=Decimal(str(d.get("applied_to_invoice", "0"))),
            balance=Decimal(str(d.get("balance", "0"))),
            consumed_by=tuple((c["invoice_id"], str(c["amount"])) for c in d.get("consumed_by") or []),
            revision=int(d.get("revision") or 1),
        )


def apply_credit_notes(
    notes: list[CreditNote], invoice_id: str, available: Decimal, limit: int = MAX_NOTES_PER_INVOICE
) -> tuple[list[InvoiceLine], list[CreditNote]]:
    """Consume the notes' balances, oldest first, up to ``available`` (the invoice's subtotal) and at most
    ``limit`` notes (the rest carry over to the next invoice).

    Returns the (negative) invoice lines and the credit notes as they are after consumption."""
    lines: list[InvoiceLine] = []
    changed: list[CreditNote] = []
    for note in sorted(notes, key=lambda n: (n.created_at, n.credit_note_id)):
        if available <= 0 or len(changed) >= limit:
            break
        take = min(note.balance, available)
        if take <= 0:
            continue
        available -= take
        changed.append(note.consumed(invoice_id, take))
        lines.append(
            InvoiceLine(
                LineKind.CREDIT_NOTE,
                f"Credit note {note.credit_note_id} ({note.reason or 'credit'})",
                -take,
                {"credit_note_id": note.credit_note_id, "credited_invoice_id": note.invoice_id},
            )
        )
    return lines, changed
