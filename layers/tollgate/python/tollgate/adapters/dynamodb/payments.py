"""Payment settings, payment writes and webhook deduplication in the main table.

| item              | pk          | sk                      | notes                                             |
|-------------------|-------------|-------------------------|---------------------------------------------------|
| payment settings  | T#<tenant>  | PAYMENT_SETTINGS        | secrets in ``doc`` (table encrypted at rest)      |
| webhook event     | T#<tenant>  | WEBHOOK#<provider id>   | written once (``attribute_not_exists``), TTL 90 d |

``commit_payment`` writes the invoice (conditional on the revision it replaces), the subscription (on
its version, with its history, due markers and key revocations) and the outbox events in one
TransactWriteItems, and the webhook event marker when the write applies one: a redelivered event
cannot be applied twice, and an event is never marked without its effect.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.billing import DynamoBillingRepository
from tollgate.adapters.dynamodb.codec import guarded_put, outbox_put, plain_json, storable
from tollgate.adapters.dynamodb.keys import payment_settings_key, webhook_event_key
from tollgate.adapters.dynamodb.subscriptions import DynamoSubscriptionRepository
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.payment_settings import PaymentSettings
from tollgate.ports.payments import DuplicateWebhook, PaymentWrite

WEBHOOK_TTL = timedelta(days=90)


class DynamoPaymentRepository:
    def __init__(self, table_name: str, clock: Callable[[], datetime] = utcnow) -> None:
        self.table_name = table_name
        self._clock = clock  # when a webhook event was received
        self._billing = DynamoBillingRepository(table_name)
        self._subscriptions = DynamoSubscriptionRepository(table_name, clock)

    @property
    def _table(self):
        return aws.table(self.table_name)

    def get_payment_settings(self, tenant_id: str) -> PaymentSettings:
        item = self._table.get_item(Key=payment_settings_key(tenant_id)).get("Item")
        return PaymentSettings.from_json(tenant_id, plain_json(item["doc"])) if item else PaymentSettings(tenant_id)

    def save_payment_settings(
        self, settings: PaymentSettings, expected_revision: int, events: list[DomainEvent]
    ) -> None:
        item = {
            **payment_settings_key(settings.tenant_id),
            "item_type": "PAYMENT_SETTINGS",
            "revision": settings.revision,
            "doc": settings.to_json(),
        }
        put = guarded_put(self.table_name, item, expected_revision or None)
        transact_write(
            self._table.meta.client,
            [put, *(outbox_put(self.table_name, e) for e in events)],
            lambda _: ConcurrentUpdate("The payment settings changed meanwhile; read them again and retry."),
        )

    def webhook_seen(self, tenant_id: str, event_id: str) -> bool:
        return "Item" in self._table.get_item(Key=webhook_event_key(tenant_id, event_id), ProjectionExpression="pk")

    def release_webhook(self, tenant_id: str, event_id: str) -> None:
        self._table.delete_item(Key=webhook_event_key(tenant_id, event_id))

    def commit_payment(self, write: PaymentWrite) -> None:
        items: list[dict[str, Any]] = []
        if write.webhook_event is not None:
            tenant_id, event_id, summary = write.webhook_event
            now = self._clock()
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": storable(
                            {
                                **webhook_event_key(tenant_id, event_id),
                                "item_type": "WEBHOOK_EVENT",
                                "received_at": to_rfc3339(now),
                                "summary": summary,
                                "expires_at": int((now + WEBHOOK_TTL).timestamp()),
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        if write.invoice is not None:
            items.append(self._billing.invoice_put(write.invoice, write.invoice_expected_revision))
        if write.subscription is not None:
            s = write.subscription
            items += self._subscriptions.save_items(
                s.subscription,
                expected_version=s.expected_version,
                events=[],
                history=s.history,
                revoke_keys_reason=s.revoke_keys_reason,
            )
        items += [outbox_put(self.table_name, e) for e in write.events]
        transact_write(self._table.meta.client, items, _payment_conflict(write))


def _payment_conflict(write: PaymentWrite) -> Callable[[list[int]], Exception]:
    """A failed condition: the webhook marker's (item 0, when there is one) means the event was already
    applied (``DuplicateWebhook``); any other means the invoice or subscription changed (a lost race)."""

    def conflict(failed: list[int]) -> Exception:
        if write.webhook_event is not None and 0 in failed:
            return DuplicateWebhook(write.webhook_event[1])
        return ConcurrentUpdate("The invoice or its subscription changed meanwhile; read again and retry.")

    return conflict
