"""What keeps a customer from being deleted: live subscriptions and open invoices."""

from __future__ import annotations

from tollgate.adapters.dynamodb.subscriptions import DynamoSubscriptionRepository
from tollgate.domain.billing.invoices import InvoiceStatus

# Not settled yet: owed (FINALIZED), or still being billed (DRAFT, FAILED).
OPEN = frozenset({InvoiceStatus.FINALIZED, InvoiceStatus.DRAFT, InvoiceStatus.FAILED})


class DynamoBillableCheck:
    def __init__(self, subscriptions: DynamoSubscriptionRepository) -> None:
        self.subscriptions = subscriptions

    def live_subscription_ids(self, tenant_id: str, customer_id: str) -> list[str]:
        return [s.subscription_id for s in self.subscriptions.list_for_customer(tenant_id, customer_id) if s.live]

    def open_invoice_ids(self, tenant_id: str, customer_id: str) -> list[str]:
        from tollgate.adapters.dynamodb.billing import DynamoBillingRepository

        invoices = DynamoBillingRepository(self.subscriptions.table_name).list_invoices(
            tenant_id, customer_id=customer_id, limit=1000
        )
        return [i.invoice_id for i in invoices if i.status in OPEN]
