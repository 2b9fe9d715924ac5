"""Billing error codes (seed 000, "Bill run partially failed") and the failures that carry them.

A failure the billing pipeline expects (the usage store is down, the tax engine timed out, a prepaid
customer's wallet is short) is raised as a ``BillingFailure`` with one ``BillingErrorCode``; the use
case catches it and answers ``FAILED`` with that code, so a bill run records it per subscription and
carries on with the others.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tollgate.domain.errors import TollgateError


class BillingErrorCode(StrEnum):
    WALLET_INSUFFICIENT_FUNDS = "WALLET_INSUFFICIENT_FUNDS"  # a prepaid customer's wallet cannot cover the invoice
    USAGE_DATA_UNAVAILABLE = "USAGE_DATA_UNAVAILABLE"  # the usage store did not answer: re-run the bill run
    TAX_CALCULATION_FAILED = "TAX_CALCULATION_FAILED"  # the tax engine timed out or failed: retry the invoice
    SUBSCRIPTION_NOT_FOUND = "SUBSCRIPTION_NOT_FOUND"
    CUSTOMER_NOT_FOUND = "CUSTOMER_NOT_FOUND"
    PLAN_VERSION_NOT_FOUND = "PLAN_VERSION_NOT_FOUND"
    METER_NOT_FOUND = "METER_NOT_FOUND"
    PERIOD_NOT_BILLABLE = "PERIOD_NOT_BILLABLE"  # not one of the subscription's periods, or not ended yet
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"  # the subscription, wallet or a credit note kept changing
    USAGE_INVALID = "USAGE_INVALID"  # the pricing engine refused the period's usage (negative, too many digits)
    INTERNAL_ERROR = "INTERNAL_ERROR"  # an unexpected error (a bug or an outage): logged; re-run or retry


class BillingFailure(TollgateError):
    """An expected failure of billing one subscription for one period; ``code`` is a BillingErrorCode."""

    status, title, code = 409, "Billing failed", "BILLING_FAILED"

    def __init__(self, code: BillingErrorCode, detail: str, **extra: Any) -> None:
        super().__init__(detail, code=code.value, **extra)
        self.error_code = code


class UsageDataUnavailable(BillingFailure):
    """Raised by a ``UsageReader`` when the usage store cannot be read (throttled, down, timed out)."""

    status, title = 503, "Usage data unavailable"

    def __init__(self, detail: str = "The usage store was unavailable; re-run the bill run.", **extra: Any) -> None:
        super().__init__(BillingErrorCode.USAGE_DATA_UNAVAILABLE, detail, **extra)


class TaxCalculationFailed(BillingFailure):
    status, title = 502, "Tax calculation failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(BillingErrorCode.TAX_CALCULATION_FAILED, detail, **extra)


class WalletInsufficientFunds(BillingFailure):
    status, title = 402, "Wallet balance insufficient"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(BillingErrorCode.WALLET_INSUFFICIENT_FUNDS, detail, **extra)


class UsageInvalid(BillingFailure):
    """The pricing engine refused a meter's usage for the period (e.g. a negative quantity, or one with
    more digits than money arithmetic allows): that subscription fails, the others are billed."""

    status, title = 422, "Usage cannot be priced"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(BillingErrorCode.USAGE_INVALID, detail, **extra)


class InvoiceNotSent(TollgateError):
    """The invoice email could not be sent; ``code`` says why (the event log has ``invoice.send_failed``)."""

    status, title, code = 409, "Invoice not sent", "INVOICE_NOT_SENT"


class SendFailure(StrEnum):
    CUSTOMER_EMAIL_MISSING = "CUSTOMER_EMAIL_MISSING"  # fix: set the customer's email (PATCH /v1/customers/{id})
    SENDER_NOT_CONFIGURED = "SENDER_NOT_CONFIGURED"  # fix: PUT /v1/settings/billing {"sender_email": ...}
    EMAIL_REJECTED = "EMAIL_REJECTED"  # the email provider refused the message (e.g. sender not verified)
