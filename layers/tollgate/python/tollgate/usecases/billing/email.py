"""Invoice email: send a finalized invoice to the customer and record the attempt (``invoice.sent`` or
``invoice.send_failed`` with the reason), after a bill or on ``POST /v1/invoices/{id}/send``."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate.domain.billing.delivery import SENDABLE, DeliveryStatus, InvoiceDelivery, invoice_email
from tollgate.domain.billing.errors import InvoiceNotSent, SendFailure
from tollgate.domain.billing.events import invoice_event
from tollgate.domain.billing.invoices import Invoice
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.customers import Customer
from tollgate.domain.errors import Conflict, NotFound
from tollgate.ports.billing import MailRejected
from tollgate.usecases.billing.repos import BillingRepos


@dataclass(frozen=True)
class SendResult:
    sent: bool
    delivery: InvoiceDelivery
    reason_code: str | None = None
    reason: str | None = None


def send_invoice(repos: BillingRepos, tenant_id: str, invoice_id: str) -> SendResult:
    """Email a finalized invoice from the tenant's sender to the customer. Every attempt is recorded
    (``invoice.sent`` or ``invoice.send_failed`` with the reason) in the event log; a failure is
    answered, not raised (``raise_for_failure`` turns it into a problem for the API)."""
    invoice = repos.invoices.get_invoice(tenant_id, invoice_id)
    if invoice is None:
        raise NotFound(
            f"Invoice not found: {invoice_id}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    if invoice.status not in SENDABLE:
        raise Conflict(
            f"Invoice {invoice_id} is {invoice.status.value}: only finalized invoices are sent.",
            code="INVOICE_NOT_SENDABLE",
            state=invoice.status.value,
        )
    customer = repos.customers.get(tenant_id, invoice.customer_id)
    previous = repos.invoices.get_delivery(tenant_id, invoice_id)
    return deliver(repos, invoice, customer, repos.settings.get_settings(tenant_id), previous)


def _refusal(invoice: Invoice, customer: Customer | None, settings: BillingSettings) -> tuple[SendFailure, str] | None:
    """Why the email cannot be sent (what to fix), or None when it can."""
    invoice_id = invoice.invoice_id
    if not (customer and customer.email):
        return SendFailure.CUSTOMER_EMAIL_MISSING, (
            f"Customer {invoice.customer_id} has no email address: set it (PATCH /v1/customers/{invoice.customer_id} "
            f'{{"email": ...}}) and resend (POST /v1/invoices/{invoice_id}/send).'
        )
    if not settings.sender_email:
        return SendFailure.SENDER_NOT_CONFIGURED, (
            "No invoice sender is configured for this tenant: set sender_email in the billing settings "
            f"(PUT /v1/settings/billing) and resend (POST /v1/invoices/{invoice_id}/send)."
        )
    return None


def deliver(
    repos: BillingRepos,
    invoice: Invoice,
    customer: Customer | None,
    settings: BillingSettings,
    previous: InvoiceDelivery | None,
) -> SendResult:
    """Send the invoice email and record the attempt (``previous``: the delivery record so far)."""
    now = repos.clock()
    attempt = (previous.attempts if previous else 0) + 1
    to = customer.email if customer else None
    refusal = _refusal(invoice, customer, settings)
    message_id = None
    if refusal is None and to and settings.sender_email:
        subject, text = invoice_email(invoice, customer.name if customer else "", settings.sender_name)
        try:
            message_id = repos.mailer.send(sender=settings.sender_email, to=to, subject=subject, text=text)
        except MailRejected as exc:
            refusal = (
                SendFailure.EMAIL_REJECTED,
                (
                    f"The email provider rejected the invoice email from {settings.sender_email} to {to}: {exc}. "
                    f"Check that the sender is verified, then resend (POST /v1/invoices/{invoice.invoice_id}/send)."
                ),
            )
    code, reason = refusal if refusal else (None, None)
    delivery = InvoiceDelivery(
        tenant_id=invoice.tenant_id,
        invoice_id=invoice.invoice_id,
        status=DeliveryStatus.FAILED if code else DeliveryStatus.SENT,
        attempts=attempt,
        last_attempt_at=now,
        to=to,
        sender=settings.sender_email,
        message_id=message_id,
        reason_code=code.value if code else None,
        reason=reason,
        sent_at=now if not code else (previous.sent_at if previous else None),
    )
    if code:
        event = invoice_event(
            "invoice.send_failed", invoice, now, str(attempt), reason_code=code.value, reason=reason, to=to
        )
    else:
        event = invoice_event("invoice.sent", invoice, now, str(attempt), to=to, message_id=message_id)
    repos.invoices.save_delivery(delivery, [event])
    return SendResult(not code, delivery, code.value if code else None, reason)


def raise_for_failure(result: SendResult) -> SendResult:
    """The API's answer to a failed send: 409 with the reason code (502 when the provider refused)."""
    if result.sent:
        return result
    error = InvoiceNotSent(result.reason or "The invoice email was not sent.", code=result.reason_code)
    if result.reason_code == SendFailure.EMAIL_REJECTED.value:
        error.status = 502
    raise error
