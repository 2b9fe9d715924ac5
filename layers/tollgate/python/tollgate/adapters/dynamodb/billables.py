"""What keeps a customer from being deleted: live subscriptions and open invoices."""

from __future__ import annotations

from tollgate.adapters.dynamodb.subscriptions import DynamoSubscriptionRepository


class DynamoBillableCheck:
    def __init__(self, subscriptions: DynamoSubscriptionRepository) -> None:
        self.subscriptions = subscriptions

    def live_subscription_ids(self, tenant_id: str, customer_id: str) -> list[str]:
        return [s.subscription_id for s in self.subscriptions.list_for_customer(tenant_id, customer_id) if s.live]

    def open_invoice_ids(self, tenant_id: str, customer_id: str) -> list[str]:
        # Invoices arrive with the billing issue; until then a customer has none.
        return []
