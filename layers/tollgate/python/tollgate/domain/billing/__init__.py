"""Billing: turn one subscription's period into one invoice (pure domain: no I/O, Decimal only).

The pipeline (the stages are listed in ``pipeline``; ``tollgate.usecases.billing.bill_subscription``
gathers their inputs and runs them; each stage's rules are a module here):

1. **usage** (``usage``): for each usage price of the pinned plan version, the meter's aggregated
   quantity for the period (read through the ``UsageReader`` port) minus included units, rated by
   the pricing engine (tiers), one line per meter with its event windows; usage the engine refuses
   is ``USAGE_INVALID``;
2. **fees** (``fees``): recurring fees by timing (in arrears for the period; in advance for the next
   one), prorations pending on the subscription, the minimum-commitment true-up;
3. **discount** (``discounts``) and **credit notes** (``credit_notes``): reduce the subtotal;
4. **tax** (``tax``): built-in exclusive/inclusive rates or an external engine (``TaxProvider`` port),
   called by the use case between the pre-tax and post-tax stages;
5. **wallet** (``wallets``): the prepaid wallet pays what it can (all of it for prepaid customers);
6. **finalize** (``invoices``): the invoice (id derived from subscription and period) is written with
   its lines, totals and usage attribution (``attribution``), the pending charges, credit-note and
   wallet balances it consumed, and ``invoice.finalized`` (``events``), in one transaction.

Failures the pipeline expects carry a ``BillingErrorCode`` (``errors``).
"""

from tollgate.domain.billing.errors import (
    BillingErrorCode,
    BillingFailure,
    TaxCalculationFailed,
    UsageDataUnavailable,
    WalletInsufficientFunds,
)
from tollgate.domain.billing.invoices import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTotals,
    LineKind,
    invoice_id_for,
)
from tollgate.domain.billing.usage import UsageAggregate, UsageWindow

__all__ = [
    "BillingErrorCode",
    "BillingFailure",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "InvoiceTotals",
    "LineKind",
    "TaxCalculationFailed",
    "UsageAggregate",
    "UsageDataUnavailable",
    "UsageWindow",
    "WalletInsufficientFunds",
    "invoice_id_for",
]
