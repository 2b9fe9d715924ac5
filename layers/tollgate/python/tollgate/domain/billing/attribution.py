"""Usage attribution: how an invoice's total was reached, stage by stage (seed 000, "Invoice amount
looks wrong": "verify the billing pipeline stage breakdown in the invoice's Usage Attribution").

Stages, in the order the pipeline applies them::

    raw_usage -> aggregated -> included_units -> tiers -> subtotal -> discounts -> credit_notes -> tax
    -> wallet -> total

``usage`` lists, per usage line, the event windows behind it (from, to, event count, quantity) and
each stage's figure for that meter, so the raw events behind a line can be summed and checked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.domain.billing.invoices import InvoiceLine, InvoiceTotals, LineKind
from tollgate.domain.money import plain

STAGES = (
    "raw_usage",
    "aggregated",
    "included_units",
    "tiers",
    "subtotal",
    "discounts",
    "credit_notes",
    "tax",
    "wallet",
    "total",
)


def _sum(lines: list[InvoiceLine], kind: LineKind) -> Decimal:
    return sum((ln.amount for ln in lines if ln.kind is kind), Decimal(0))


def _late(line: InvoiceLine) -> dict[str, Any]:
    """A late-usage line (``tollgate.domain.billing.late_usage``): the period and invoice it belongs to."""
    if "late_for_invoice" not in line.details:
        return {}
    return {"late_for_invoice": line.details["late_for_invoice"], "late_for_period": line.details["late_for_period"]}


def _key(entry: dict[str, Any]) -> str:
    """A meter's key in the stage figures; a late-usage entry is keyed by its meter and period."""
    period = entry.get("late_for_period")
    return f"{entry['meter_id']} (late, {period['start']})" if period else str(entry["meter_id"])


def attribution(lines: list[InvoiceLine] | tuple[InvoiceLine, ...], totals: InvoiceTotals) -> dict[str, Any]:
    lines = list(lines)
    usage = [ln for ln in lines if ln.kind is LineKind.USAGE]
    per_meter = [
        {
            "meter_id": ln.details["meter_id"],
            "event_name": ln.details.get("event_name"),
            "usage_from": ln.details.get("usage_from"),
            "usage_to": ln.details.get("usage_to"),
            "windows": ln.details.get("windows", []),
            "event_count": ln.details.get("event_count", 0),
            "aggregated_quantity": ln.details.get("quantity"),
            "included_units": ln.details.get("included_units"),
            "billable_quantity": ln.details.get("billable_quantity"),
            "tiers": ln.details.get("breakdown", []),
            "amount": plain(ln.amount),
            **_late(ln),
        }
        for ln in usage
    ]
    stages = [
        {
            "stage": "raw_usage",
            "event_count": sum(int(m["event_count"]) for m in per_meter),
            "windows": sum(len(m["windows"]) for m in per_meter),
        },
        {"stage": "aggregated", "quantities": {_key(m): m["aggregated_quantity"] for m in per_meter}},
        {
            "stage": "included_units",
            "included": {_key(m): m["included_units"] for m in per_meter},
            "billable": {_key(m): m["billable_quantity"] for m in per_meter},
        },
        {"stage": "tiers", "amounts": {_key(m): m["amount"] for m in per_meter}},
        {
            "stage": "subtotal",
            "amount": plain(totals.subtotal),
            "usage": plain(_sum(lines, LineKind.USAGE)),
            "fees": plain(_sum(lines, LineKind.FEE)),
            "prorations": plain(_sum(lines, LineKind.PRORATION)),
            "minimum_commitment": plain(_sum(lines, LineKind.MINIMUM_COMMITMENT)),
        },
        {
            "stage": "discounts",
            "amount": plain(-totals.discounts),
            "coupons": [ln.details["coupon_id"] for ln in lines if ln.kind is LineKind.DISCOUNT],
        },
        {
            "stage": "credit_notes",
            "amount": plain(-totals.credit_notes),
            "credit_notes": [ln.details["credit_note_id"] for ln in lines if ln.kind is LineKind.CREDIT_NOTE],
        },
        {"stage": "tax", "amount": plain(totals.tax), "inclusive": totals.tax_inclusive},
        {"stage": "wallet", "amount": plain(-totals.wallet)},
        {"stage": "total", "amount": plain(totals.total), "amount_due": plain(totals.amount_due)},
    ]
    return {"stages": stages, "usage": per_meter}


def with_credit_note(attr: dict[str, Any], totals: InvoiceTotals, credit_note_id: str) -> dict[str, Any]:
    """The attribution of an issued invoice after a credit note against it: the ``credit_notes`` stage
    shows all the credit (``totals.credit_notes``) and the note, the ``total`` stage the new amount due."""
    stages = []
    for stage in attr.get("stages", []):
        if stage.get("stage") == "credit_notes":
            ids = [*stage.get("credit_notes", []), credit_note_id]
            stage = {**stage, "amount": plain(-totals.credit_notes), "credit_notes": ids}
            stage["after_finalization"] = {"credited": plain(totals.credited), "applied": plain(totals.credit_applied)}
        elif stage.get("stage") == "total":
            stage = {**stage, "amount_due": plain(totals.amount_due)}
        stages.append(stage)
    return {**attr, "stages": stages}
