"""The final adjustment invoice: late usage of a subscription that has ended has no next invoice to ride
on, so it gets an invoice of its own (late-usage lines only, then credit notes, tax and the wallet as on
any invoice), finalized by the same conditional write.

Its id is derived from the late usage it bills (each period's meter and quantity now): billing the same
late usage again targets the same invoice and answers ALREADY_INVOICED; later late usage (the invoice
counts as billed for its periods) makes a new adjustment invoice of the increment only.
"""

from __future__ import annotations

from tollgate.domain.bill_runs import ResultStatus
from tollgate.domain.billing.errors import BillingErrorCode, BillingFailure
from tollgate.domain.billing.invoices import ISSUED, Invoice
from tollgate.domain.billing.late_usage import LateUsage
from tollgate.domain.billing.pipeline import (
    Bill,
    BillingInputs,
    after_tax,
    credit_notes,
    drafted_invoice,
    rate_late_usage,
    run_stages,
    tax_request,
)
from tollgate.domain.ids import deterministic_id
from tollgate.domain.money import plain
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import Subscription
from tollgate.usecases.billing.bill import BillResult
from tollgate.usecases.billing.inputs import read_usage
from tollgate.usecases.billing.late_usage import gather_late_usage
from tollgate.usecases.billing.repos import BillingRepos
from tollgate.usecases.billing.snapshot import PageSnapshot
from tollgate.usecases.billing.tax import calculate_tax
from tollgate.usecases.billing.writes import PricedBill, finalizing_write

ADJUSTMENT_STAGES = (rate_late_usage, credit_notes)


def adjustment_id(tenant_id: str, subscription_id: str, late: tuple[LateUsage, ...]) -> str:
    billed = sorted(f"{u.billed.invoice_id}:{u.billed.meter_id}:{plain(u.now.quantity)}" for u in late)
    return deterministic_id("inv", tenant_id, subscription_id, "late-usage", *billed)


def bill_late_usage_adjustment(repos: BillingRepos, tenant_id: str, subscription_id: str) -> BillResult | None:
    """The adjustment invoice of an ended subscription's unbilled late usage (None: nothing to bill, or
    the subscription is live, whose next invoice carries it). Raises ``BillingFailure`` (e.g. a tax engine
    down) with nothing written: the next attempt bills it."""
    snapshot = PageSnapshot(repos, tenant_id)
    sub = snapshot.subscription(subscription_id)
    if sub is None or sub.live:
        return None
    now = repos.clock()
    late = tuple(
        u
        for u in gather_late_usage(
            snapshot, sub, Period(now, now), now, lambda m, s, e: read_usage(snapshot, sub.customer_id, m, s, e)
        )
        if u.now.quantity > u.billed.quantity
    )
    if not late:
        return None
    invoice_id = adjustment_id(tenant_id, subscription_id, late)
    existing = repos.invoices.get_invoice(tenant_id, invoice_id)
    if existing is not None and existing.status in ISSUED:
        return BillResult(invoice_id, ResultStatus.ALREADY_INVOICED, detail=f"Invoice {invoice_id} is issued.")
    inputs = _inputs(snapshot, sub, late, invoice_id, existing)
    bill = run_stages(ADJUSTMENT_STAGES, inputs, Bill(charges_later=sub.pending_charges))
    request = tax_request(inputs, bill)
    tax = calculate_tax(repos, inputs.settings, request) if request is not None else None
    bill = after_tax(inputs, bill, tax)
    write = finalizing_write(PricedBill(inputs, bill, drafted_invoice(inputs, bill)), now, True)
    repos.invoices.commit(write)
    assert write.invoice is not None
    return BillResult(
        invoice_id, ResultStatus.INVOICED, detail=f"Invoice {invoice_id} is FINALIZED.", invoice=write.invoice
    )


def _inputs(
    snapshot: PageSnapshot, sub: Subscription, late: tuple[LateUsage, ...], invoice_id: str, existing: Invoice | None
) -> BillingInputs:
    customer = snapshot.customer(sub.customer_id)
    if customer is None:
        raise BillingFailure(BillingErrorCode.CUSTOMER_NOT_FOUND, f"Customer {sub.customer_id} was not found.")
    version = snapshot.version(sub.plan)
    if version is None:
        raise BillingFailure(
            BillingErrorCode.PLAN_VERSION_NOT_FOUND, f"Plan {sub.plan.plan_id} v{sub.plan.version} was not found."
        )
    period = Period(min(u.billed.period_start for u in late), max(u.billed.period_end for u in late))
    return BillingInputs(
        invoice_id=invoice_id,
        subscription=sub,
        customer=customer,
        period=period,
        now=snapshot.repos.clock(),
        version=version,
        next_version=None,
        next_period=None,
        usage=(),
        credit_notes=tuple(
            snapshot.repos.credit_notes.available_credit_notes(snapshot.tenant_id, customer.customer_id, sub.currency)
        ),
        wallet=snapshot.wallet(customer.customer_id, sub.currency),
        settings=snapshot.settings(),
        existing=existing,
        late_usage=late,
    )
