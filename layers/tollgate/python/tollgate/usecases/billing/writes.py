"""The writes of billing one subscription: the finalizing (or draft) write of a priced bill, and the
FAILED record of a bill that could not be computed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tollgate.domain.billing.errors import BillingErrorCode, BillingFailure
from tollgate.domain.billing.events import invoice_event
from tollgate.domain.billing.invoices import (
    ISSUED,
    Invoice,
    InvoiceAction,
    InvoiceStatus,
    LineKind,
    invoice_id_for,
    totals_of,
)
from tollgate.domain.billing.pipeline import Bill, BillingInputs
from tollgate.domain.errors import Conflict
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import Subscription
from tollgate.ports.billing import BillingWrite, ChargeConsumption
from tollgate.usecases.billing.repos import BillingRepos

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PricedBill:
    """What the pipeline gave for one subscription and period: the invoice and the bill behind it."""

    inputs: BillingInputs
    bill: Bill
    invoice: Invoice


def finalizing_write(priced: PricedBill, now: datetime, finalize: bool) -> BillingWrite:
    """The one conditional write of a bill: the invoice FINALIZED (PAID when nothing is due) with the
    credit notes, the wallet and the subscription's charges it consumes -- or a DRAFT consuming nothing."""
    existing, draft = priced.inputs.existing, priced.invoice
    expected = existing.revision if existing else None
    if not finalize:
        saved = draft.moved(InvoiceAction.SAVE_DRAFT, now) if existing else replace(draft, revision=1)
        return BillingWrite(invoice=saved, invoice_expected_revision=expected)
    base = draft if existing else replace(draft, status=InvoiceStatus.DRAFT)
    terms = timedelta(days=priced.inputs.settings.payment_terms_days)
    invoice = base.moved(InvoiceAction.FINALIZE, now, finalized_at=now, due_at=now + terms)
    events = [invoice_event("invoice.finalized", invoice, now, "finalized")]
    if invoice.amount_due == 0:
        invoice = replace(invoice.moved(InvoiceAction.PAY, now, paid_at=now), revision=invoice.revision)
        events.append(invoice_event("invoice.paid", invoice, now, "paid", paid_by="wallet_or_credit"))
    before = {n.credit_note_id: n.revision for n in priced.inputs.credit_notes}
    wallet = priced.inputs.wallet
    burnt = priced.bill.wallet
    return BillingWrite(
        invoice=invoice,
        invoice_expected_revision=expected,
        credit_notes=[(note, before[note.credit_note_id]) for note in priced.bill.credit_notes],
        wallet=(burnt, wallet.revision) if burnt is not None and wallet is not None else None,
        charges=_charge_consumption(priced, invoice),
        events=events,
    )


def _charge_consumption(priced: PricedBill, invoice: Invoice) -> ChargeConsumption:
    """The subscription's side, in the same transaction: the charges consumed, billed through the period
    end, re-listed under its next period, a period of its discount used."""
    sub, draft = priced.inputs.subscription, priced.invoice
    billed = max(sub.billed_through or draft.period_end, draft.period_end)
    following = replace(sub, billed_through=billed).next_bill_period()
    used = any(ln.kind is LineKind.DISCOUNT for ln in invoice.lines) and sub.discount is not None
    after_discount = sub.discount.used_once() if used and sub.discount else None
    return ChargeConsumption(
        draft.tenant_id,
        draft.subscription_id,
        sub.version,
        priced.bill.charges_later,
        billed_through=billed,
        next_period_end=following.end if following else None,
        discount_used=used,
        discount_after=after_discount.to_json() if after_discount else None,
    )


# Failures worth a FAILED record (retrying can succeed); an unknown subscription or a period that is not
# one of the subscription's (or has not ended) has nothing to retry.
_NOT_RECORDED = frozenset({BillingErrorCode.SUBSCRIPTION_NOT_FOUND, BillingErrorCode.PERIOD_NOT_BILLABLE})


def record_failure(
    repos: BillingRepos, tenant_id: str, subscription_id: str, period: Period, failure: BillingFailure
) -> None:
    """Best effort: a FAILED record under the invoice's id (nothing else), so it can be retried by id."""
    if failure.error_code in _NOT_RECORDED:
        return
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        return  # nothing to retry: the bill run's result says why
    now = repos.clock()
    existing = repos.invoices.get_invoice(tenant_id, invoice_id_for(tenant_id, subscription_id, period.start))
    if existing is not None and existing.status in ISSUED:
        return
    failed = _failed_record(sub, period, existing, failure, now)
    event = invoice_event(
        "invoice.failed",
        failed,
        now,
        str(failed.attempts),
        error_code=failure.error_code.value,
        detail=failure.detail,
    )
    expected = existing.revision if existing else None
    try:
        repos.invoices.commit(BillingWrite(invoice=failed, invoice_expected_revision=expected, events=[event]))
    except Conflict:
        _log.info("invoice %s changed while its failure was recorded", failed.invoice_id)


def _failed_record(
    sub: Subscription, period: Period, existing: Invoice | None, failure: BillingFailure, now: datetime
) -> Invoice:
    code, detail = failure.error_code.value, failure.detail
    if existing is not None:
        return existing.moved(
            InvoiceAction.FAIL,
            now,
            lines=(),
            totals=totals_of([]),
            attribution={},
            consumed_charges=(),
            attempts=existing.attempts + 1,
            error_code=code,
            error_detail=detail,
        )
    return Invoice(
        invoice_id=invoice_id_for(sub.tenant_id, sub.subscription_id, period.start),
        tenant_id=sub.tenant_id,
        customer_id=sub.customer_id,
        subscription_id=sub.subscription_id,
        currency=sub.currency,
        period_start=period.start,
        period_end=period.end,
        status=InvoiceStatus.FAILED,
        created_at=now,
        updated_at=now,
        plan_id=sub.plan.plan_id,
        plan_version=sub.plan.version,
        attempts=1,
        revision=1,
        error_code=code,
        error_detail=detail,
    )
