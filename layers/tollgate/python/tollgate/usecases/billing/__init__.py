"""Billing use cases: bill one subscription for one period, preview the upcoming invoice, retry an
invoice, email it. The modules, by noun:

- ``bill``: ``bill_subscription`` (what a bill run calls per subscription), ``preview_invoice``,
  ``retry_invoice``, ``get_invoice``, and ``PageBiller`` (a bill-run page's biller);
- ``snapshot``: the page snapshot -- what billing reads, read in bulk for a bill-run page;
- ``inputs``: gathering the pipeline's inputs (``tollgate.domain.billing.pipeline`` has the stages);
- ``tax``: calling the tax provider between the pre-tax and post-tax stages;
- ``writes``: the finalizing write and the FAILED record;
- ``email``: sending an invoice and recording the attempt.

``bill_subscription`` is idempotent: the invoice id is derived from (tenant, subscription, period
start), an invoice already FINALIZED (or PAID, VOID, UNCOLLECTIBLE) is answered ALREADY_INVOICED without
writing, and the finalizing write is one transaction conditional on everything it replaces -- the
invoice's revision (or its absence), the subscription's version (its pending charges are consumed
exactly once), each credit note's and the wallet's revision. A lost race re-reads and recomputes (up
to three times); if the invoice was finalized meanwhile the answer is ALREADY_INVOICED.

Expected failures (``BillingFailure``: WALLET_INSUFFICIENT_FUNDS, USAGE_DATA_UNAVAILABLE,
TAX_CALCULATION_FAILED, ...) are answered FAILED with their code, never raised: one subscription's
failure never stops a bill run. Nothing of the bill is written then (no invoice lines, no burn, no
consumed charge or credit); only a FAILED record under the invoice's id, with the error code and the
attempt count, so ``retry_invoice`` can reprocess exactly that one, and ``invoice.failed`` in the
event log.

After a successful finalization the invoice is emailed (best effort: a failure is recorded as
``invoice.send_failed`` and never fails the bill).
"""

from __future__ import annotations

from tollgate.usecases.billing.bill import (
    BillResult,
    PageBiller,
    bill_subscription,
    get_invoice,
    preview_invoice,
    retry_invoice,
)
from tollgate.usecases.billing.email import SendResult, raise_for_failure, send_invoice
from tollgate.usecases.billing.repos import BillingRepos
from tollgate.usecases.billing.snapshot import PageSnapshot, read_page

__all__ = [
    "BillResult",
    "BillingRepos",
    "PageBiller",
    "PageSnapshot",
    "SendResult",
    "bill_subscription",
    "get_invoice",
    "preview_invoice",
    "raise_for_failure",
    "read_page",
    "retry_invoice",
    "send_invoice",
]
