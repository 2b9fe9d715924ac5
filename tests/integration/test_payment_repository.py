"""The DynamoDB payment repository on moto: a webhook event is applied once even when two deliveries race
past the "seen" check (the marker is conditional, in the effect's own transaction), and a payment
written against an invoice revision that moved is refused whole."""

from dataclasses import replace

import pytest

from tollgate import wiring
from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict
from tollgate.ports.billing import BillingWrite
from tollgate.ports.payments import DuplicateWebhook, PaymentWrite


def _invoice(tenant_id: str) -> Invoice:
    now = utcnow()
    return Invoice(
        "inv_payrepo", tenant_id, "cus_x", "sub_x", "USD", now, now, InvoiceStatus.FINALIZED, now, now, revision=1
    )


def test_a_webhook_event_id_is_applied_once_and_a_stale_invoice_write_changes_nothing(local_stack):
    tenant = local_stack.bootstrap_tenant("payment repository")
    repo = wiring.payment_repository()
    invoice = _invoice(tenant.tenant_id)
    with local_stack.exclusive():
        wiring.billing_repository().commit(BillingWrite(invoice=invoice))
        marker = (tenant.tenant_id, "evt_race", {"type": "payment_intent.succeeded"})
        repo.commit_payment(PaymentWrite(replace(invoice, revision=2), 1, webhook_event=marker))
        assert repo.webhook_seen(tenant.tenant_id, "evt_race")
        with pytest.raises(
            DuplicateWebhook
        ):  # the second delivery, past the seen check: refused by the marker's condition
            repo.commit_payment(PaymentWrite(replace(invoice, revision=3), 2, webhook_event=marker))
        with pytest.raises(Conflict):  # written against revision 1, which moved to 2: nothing is written
            repo.commit_payment(
                PaymentWrite(
                    replace(invoice, status=InvoiceStatus.PAID, revision=2),
                    1,
                    webhook_event=(tenant.tenant_id, "evt_other", {}),
                )
            )
        assert not repo.webhook_seen(tenant.tenant_id, "evt_other")
        stored = wiring.billing_repository().get_invoice(tenant.tenant_id, "inv_payrepo")
    assert stored.revision == 2 and stored.status is InvoiceStatus.FINALIZED


def test_a_released_webhook_marker_lets_the_redelivery_apply_the_event(local_stack):
    tenant = local_stack.bootstrap_tenant("payment repository release")
    repo = wiring.payment_repository()
    marker = (tenant.tenant_id, "evt_release", {"type": "checkout.session.completed"})
    with local_stack.exclusive():
        repo.commit_payment(PaymentWrite(webhook_event=marker))
        with pytest.raises(DuplicateWebhook):
            repo.commit_payment(PaymentWrite(webhook_event=marker))
        repo.release_webhook(tenant.tenant_id, "evt_release")  # applying the effect failed
        assert not repo.webhook_seen(tenant.tenant_id, "evt_release")
        repo.commit_payment(PaymentWrite(webhook_event=marker))  # Stripe's redelivery
        assert repo.webhook_seen(tenant.tenant_id, "evt_release")
