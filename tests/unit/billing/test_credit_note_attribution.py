"""Issue 14 (while here): a credit note issued after finalization shows in the invoice's totals and in the
``credit_notes`` stage of its usage attribution (seed 000: "check for applied credit notes that reduced
the total")."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.billing.billing_world import JAN, TENANT, World
from tollgate.usecases.billing import bill_subscription
from tollgate.usecases.invoicing import create_credit_note


def stage(invoice, name: str) -> dict:
    return next(s for s in invoice.attribution["stages"] if s["stage"] == name)


def test_a_credit_note_after_finalization_shows_in_totals_and_in_the_credit_notes_stage(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "100", "timing": "in_arrears"}])
    sub = world.subscribe(version)
    invoice = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    assert stage(invoice, "credit_notes")["amount"] == "0"
    note = create_credit_note(world.repos, TENANT, {"invoice_id": invoice.invoice_id, "amount": "30"})
    after = world.billing.get_invoice(TENANT, invoice.invoice_id)
    assert after.totals.credit_notes == Decimal("30") and after.totals.credited == Decimal("30")
    assert after.totals.total == Decimal("100") and after.amount_due == Decimal("70")  # the total was finalized
    credit = stage(after, "credit_notes")
    assert Decimal(credit["amount"]) == Decimal("-30") and credit["credit_notes"] == [note.credit_note_id]
    assert {k: Decimal(v) for k, v in credit["after_finalization"].items()} == {"credited": 30, "applied": 30}
    assert Decimal(stage(after, "total")["amount_due"]) == Decimal("70")
    assert Decimal(after.to_json()["totals"]["credit_notes"]) == Decimal("30")
