"""Bill one subscription for one period; preview its upcoming invoice; retry a failed invoice.

All three run the same pipeline (``tollgate.domain.billing.pipeline``) on inputs gathered through a
page snapshot: a bill run's page read in bulk, or item by item for a preview or a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tollgate.domain.bill_runs import ResultStatus
from tollgate.domain.billing.errors import BillingErrorCode, BillingFailure
from tollgate.domain.billing.invoices import ISSUED, Invoice, InvoiceStatus, invoice_id_for
from tollgate.domain.billing.pipeline import after_tax, before_tax, drafted_invoice, tax_request
from tollgate.domain.billing.settings import grace_period_end
from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import ConcurrentUpdate, Conflict, NotFound
from tollgate.domain.periods import Period
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.subscriptions import Subscription
from tollgate.observability import count
from tollgate.usecases.billing.email import deliver
from tollgate.usecases.billing.inputs import gather_inputs
from tollgate.usecases.billing.repos import BillingRepos
from tollgate.usecases.billing.snapshot import CatalogReads, PageSnapshot, read_page
from tollgate.usecases.billing.tax import calculate_tax
from tollgate.usecases.billing.usage_readiness import await_usage
from tollgate.usecases.billing.writes import PricedBill, finalizing_write, record_failure

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillResult:
    """The outcome of billing one subscription for one period (what a bill run records)."""

    invoice_id: str
    status: ResultStatus  # INVOICED | ALREADY_INVOICED | FAILED
    error_code: str | None = None
    detail: str = ""
    invoice: Invoice | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "invoice_id": self.invoice_id,
            "status": self.status.value,
            "error_code": self.error_code,
            "detail": self.detail,
        }


def price(
    snapshot: PageSnapshot,
    subscription_id: str,
    period: Period,
    existing: Invoice | None,
    *,
    preview: bool = False,
) -> PricedBill:
    """Gather the inputs, run the pre-tax stages, ask the tax provider, run the post-tax stages."""
    repos = snapshot.repos
    inputs = gather_inputs(snapshot, subscription_id, period, existing, repos.clock(), preview=preview)
    bill = before_tax(inputs)
    request = tax_request(inputs, bill)
    tax = calculate_tax(repos, inputs.settings, request) if request is not None else None
    bill = after_tax(inputs, bill, tax)
    return PricedBill(inputs, bill, drafted_invoice(inputs, bill))


def _already_invoiced(invoice: Invoice) -> BillResult:
    detail = f"Invoice {invoice.invoice_id} is {invoice.status.value}."
    return BillResult(invoice.invoice_id, ResultStatus.ALREADY_INVOICED, detail=detail, invoice=invoice)


def _bill_once(
    snapshot: PageSnapshot, subscription_id: str, period: Period, *, finalize: bool, send: bool
) -> BillResult:
    """One read-price-write attempt; ``ConcurrentUpdate`` when the write lost a race."""
    repos, tenant_id = snapshot.repos, snapshot.tenant_id
    invoice_id = invoice_id_for(tenant_id, subscription_id, period.start)
    existing = snapshot.invoice(invoice_id)
    if existing is not None and existing.status in ISSUED:
        return _already_invoiced(existing)
    grace_end = grace_period_end(snapshot.settings(), period.end)
    finalize = finalize and repos.clock() >= grace_end  # in its grace period an invoice stays DRAFT
    try:
        priced = price(snapshot, subscription_id, period, existing)
        write = finalizing_write(priced, repos.clock(), finalize)
        repos.invoices.commit(write)
    except BillingFailure as failure:
        record_failure(repos, tenant_id, subscription_id, period, failure)
        return BillResult(invoice_id, ResultStatus.FAILED, failure.error_code.value, failure.detail)
    invoice = write.invoice
    assert invoice is not None
    if finalize and send:
        try:
            deliver(repos, invoice, priced.inputs.customer, priced.inputs.settings, snapshot.delivery(invoice_id))
        except Exception:
            _log.exception("sending invoice %s failed", invoice_id)
    detail = f"Invoice {invoice_id} is {invoice.status.value}."
    if invoice.status is InvoiceStatus.DRAFT and grace_end > period.end:
        detail += f" It is finalized after its grace period, at the first bill run from {to_rfc3339(grace_end)}."
    return BillResult(invoice_id, ResultStatus.INVOICED, detail=detail, invoice=invoice)


def bill_subscription(
    repos: BillingRepos,
    tenant_id: str,
    subscription_id: str,
    period_start: datetime,
    period_end: datetime,
    *,
    finalize: bool = True,
    send: bool = True,
    snapshot: PageSnapshot | None = None,
) -> BillResult:
    """Bill ``subscription_id`` for the period [period_start, period_end) (one of its billing periods,
    already ended). See the package docstring for idempotency and failures. ``finalize=False`` leaves a
    DRAFT (recomputed by the next call) that consumes nothing; ``send=False`` skips the email;
    ``snapshot`` is what a bill run read in bulk for the page (default: read item by item)."""
    result = _bill(repos, tenant_id, subscription_id, Period(period_start, period_end), finalize, send, snapshot)
    _count(result)
    return result


def _count(result: BillResult) -> None:
    """Business metrics: InvoicesFinalized, BillFailures by error code."""
    if result.status is ResultStatus.FAILED:
        count("BillFailures", code=result.error_code or BillingErrorCode.INTERNAL_ERROR.value)
    elif result.status is ResultStatus.INVOICED and result.invoice and result.invoice.status in ISSUED:
        count("InvoicesFinalized")


def _bill(
    repos: BillingRepos,
    tenant_id: str,
    subscription_id: str,
    period: Period,
    finalize: bool,
    send: bool,
    snapshot: PageSnapshot | None,
) -> BillResult:
    reads = [snapshot or PageSnapshot(repos, tenant_id)]

    def attempt() -> BillResult:
        current = reads[0]
        reads[0] = current.fresh()  # a retry after a lost race reads the current items
        return _bill_once(current, subscription_id, period, finalize=finalize, send=send)

    detail = f"Subscription {subscription_id} (or its wallet or credit notes) kept changing while it was billed; retry."
    invoice_id = invoice_id_for(tenant_id, subscription_id, period.start)
    try:
        return retry_on_conflict(attempt, exhausted=detail)
    except ConcurrentUpdate:
        existing = repos.invoices.get_invoice(tenant_id, invoice_id)
        if existing is not None and existing.status in ISSUED:
            return _already_invoiced(existing)
        return BillResult(invoice_id, ResultStatus.FAILED, BillingErrorCode.CONCURRENT_UPDATE.value, detail)
    except Exception as exc:  # a bug or an outage: this subscription fails, never the others of its bill run
        return _internal_error(repos, tenant_id, subscription_id, period, invoice_id, exc)


def _internal_error(
    repos: BillingRepos, tenant_id: str, subscription_id: str, period: Period, invoice_id: str, exc: Exception
) -> BillResult:
    """FAILED with INTERNAL_ERROR (and a FAILED record when it can be written), the exception logged."""
    _log.exception("billing subscription %s (invoice %s) failed unexpectedly", subscription_id, invoice_id)
    failure = BillingFailure(
        BillingErrorCode.INTERNAL_ERROR,
        f"Billing failed unexpectedly ({type(exc).__name__}); it was logged. Retry the invoice "
        f"(POST /v1/invoices/{invoice_id}/retry) or re-run the bill run.",
    )
    try:
        record_failure(repos, tenant_id, subscription_id, period, failure)
    except Exception:
        _log.exception("recording the failure of invoice %s failed", invoice_id)
    return BillResult(invoice_id, ResultStatus.FAILED, failure.error_code.value, failure.detail)


def preview_invoice(repos: BillingRepos, tenant_id: str, subscription_id: str, at: datetime | None = None) -> Invoice:
    """The invoice the period containing ``at`` (default: now) would get if it ended now: the same
    pipeline, usage up to now, nothing written (``GET /v1/subscriptions/{id}/upcoming-invoice``).

    Raises NotFound for an unknown subscription, Conflict for one that has ended, and the pipeline's
    ``BillingFailure`` (e.g. USAGE_DATA_UNAVAILABLE, TAX_CALCULATION_FAILED) as a problem. A prepaid
    wallet that cannot cover the total is a warning in ``attribution.warnings``, not an error."""
    sub = repos.subscriptions.get(tenant_id, subscription_id)
    if sub is None:
        raise NotFound(
            f"Subscription not found: {subscription_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    if not sub.live:
        raise Conflict(
            f"Subscription {subscription_id} is {sub.status.value}: it has no upcoming invoice.",
            code="SUBSCRIPTION_TERMINAL",
        )
    period = sub.period(at or repos.clock())
    existing = repos.invoices.get_invoice(tenant_id, invoice_id_for(tenant_id, subscription_id, period.start))
    if existing is not None and existing.status in ISSUED:
        return existing
    snapshot = PageSnapshot(repos, tenant_id, subscriptions={subscription_id: sub})
    return price(snapshot, subscription_id, period, None, preview=True).invoice


def retry_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> BillResult:
    """Reprocess one FAILED (or DRAFT) invoice: bill its subscription for its period again, finalizing
    it. NotFound for an unknown id; Conflict naming the state for an invoice already issued."""
    invoice = get_invoice(repos, tenant_id, invoice_id)
    if invoice.status in ISSUED:
        raise Conflict(
            f"Invoice {invoice_id} is {invoice.status.value}: only a FAILED or DRAFT invoice can be retried.",
            code="INVOICE_NOT_RETRYABLE",
            state=invoice.status.value,
        )
    return bill_subscription(repos, tenant_id, invoice.subscription_id, invoice.period_start, invoice.period_end)


def get_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str, *, customer_id: str | None = None) -> Invoice:
    """The invoice; with ``customer_id`` (a customer key), only if it is that customer's."""
    invoice = repos.invoices.get_invoice(tenant_id, invoice_id) if is_identifier(invoice_id) else None
    if invoice is None or (customer_id is not None and invoice.customer_id != customer_id):
        raise NotFound(
            f"Invoice not found: {shown(invoice_id)}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    return invoice


class PageBiller:
    """What a bill-run page calls (``tollgate.usecases.bill_runs.rate_page``): ``prefetch`` reads the
    page's items in bulk into a snapshot, then each call bills one subscription from it. Plan versions,
    meters and settings are read once for the page."""

    def __init__(self, repos: BillingRepos) -> None:
        self.repos = repos
        self._catalogs: dict[str, CatalogReads] = {}  # by tenant
        self._snapshots: dict[str, PageSnapshot] = {}
        self._unavailable: dict[str, BillingFailure] = {}  # by tenant: the usage was not aggregated in time

    def await_usage(self, tenant_id: str, cutoff: datetime) -> None:
        """Before the page: wait until every event received before ``cutoff`` is aggregated (raises
        ``TransientError`` for the state machine to retry the page; after ``MAX_WAIT`` each subscription
        of the page fails with USAGE_DATA_UNAVAILABLE instead of being billed short)."""
        failure = await_usage(self.repos, tenant_id, cutoff)
        if failure is None:
            self._unavailable.pop(tenant_id, None)
        else:
            self._unavailable[tenant_id] = failure

    def prefetch(self, tenant_id: str, subscriptions: list[Subscription], periods: Mapping[str, Period]) -> None:
        catalog = self._catalogs.setdefault(tenant_id, CatalogReads())
        self._snapshots[tenant_id] = read_page(self.repos, tenant_id, subscriptions, periods, catalog)

    def __call__(self, tenant_id: str, subscription_id: str, period_start: datetime, period_end: datetime):
        from tollgate.usecases.bill_runs import BillOutcome

        unavailable = self._unavailable.get(tenant_id)
        if unavailable is not None:
            invoice_id = invoice_id_for(tenant_id, subscription_id, period_start)
            existing = self.repos.invoices.get_invoice(tenant_id, invoice_id)
            if existing is None or existing.status not in ISSUED:  # an issued invoice is ALREADY_INVOICED below
                record_failure(self.repos, tenant_id, subscription_id, Period(period_start, period_end), unavailable)
                count("BillFailures", code=unavailable.error_code.value)
                return BillOutcome(ResultStatus.FAILED, invoice_id, unavailable.error_code.value, unavailable.detail)
        snapshot = self._snapshots.get(tenant_id) or PageSnapshot(
            self.repos, tenant_id, catalog=self._catalogs.setdefault(tenant_id, CatalogReads())
        )
        r = bill_subscription(self.repos, tenant_id, subscription_id, period_start, period_end, snapshot=snapshot)
        return BillOutcome(r.status, r.invoice_id, r.error_code, r.detail)
