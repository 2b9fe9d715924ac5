"""Invoices, credit notes, wallets, billing settings and invoice deliveries in the main table.

| item             | pk         | sk                   | gsi1pk                        | gsi1sk                      |
|------------------|------------|----------------------|-------------------------------|-----------------------------|
| invoice          | T#<tenant> | INV#<invoice_id>     | T#<tenant>#CUSTINV#<customer> | <period start>#<invoice_id> |
| invoice delivery | T#<tenant> | INVSEND#<invoice_id> |                               |                             |
| credit note      | T#<tenant> | CN#<credit_note_id>  | T#<tenant>#CUSTCN#<customer>  | <created at>#<id>           |
| wallet           | T#<tenant> | WALLET#<wallet_id>   | T#<tenant>#CUSTWAL#<customer> | <currency>                  |
| billing settings | T#<tenant> | BILLING_SETTINGS     |                               |                             |

The invoice id is derived from (tenant, subscription, period start), so its item key is too: every
write of a period's invoice targets the same item, conditional on ``attribute_not_exists`` (new) or
on the revision it replaces. ``commit`` writes an invoice, the credit notes and the wallet it
touches, the subscription's consumed pending charges (conditional on the subscription's version) and
the outbox events in one TransactWriteItems, so a bill is written completely or not at all.

Each item keeps the entity's JSON in ``doc`` (decimal strings), plus the attributes the keys,
conditions and filters need.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import guarded_put, outbox_put, plain_json, query_all, storable
from tollgate.adapters.dynamodb.keys import (
    CREDIT_NOTE_PREFIX,
    INVOICE_PREFIX,
    WALLET_PREFIX,
    Key,
    billing_due_gsi2pk,
    billing_due_gsi2sk,
    billing_settings_key,
    credit_note_key,
    customer_credit_notes_gsi1pk,
    customer_credit_notes_gsi1sk,
    customer_invoices_gsi1pk,
    customer_invoices_gsi1sk,
    customer_key,
    customer_wallets_gsi1pk,
    invoice_delivery_key,
    invoice_key,
    subscription_key,
    tenant_pk,
    wallet_key,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.adapters.dynamodb.transactions import transact_write
from tollgate.domain.billing.credit_notes import CreditNote
from tollgate.domain.billing.delivery import InvoiceDelivery
from tollgate.domain.billing.invoices import Invoice, InvoiceStatus
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.wallets import Wallet
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page
from tollgate.ports.billing import BillingWrite


class DynamoBillingRepository:
    """Implements InvoiceRepository, CreditNoteRepository, WalletRepository and BillingSettingsRepository."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    def _get(self, key: Key) -> dict[str, Any] | None:
        return self._table.get_item(Key=key).get("Item")

    def _guarded_put(self, item: dict[str, Any], expected_revision: int | None) -> dict[str, Any]:
        return guarded_put(self.table_name, item, expected_revision)

    def invoice_put(self, invoice: Invoice, expected_revision: int | None) -> dict[str, Any]:
        """The TransactWriteItems entry of an invoice write (for writes that must land with another
        entity's): new, or conditional on the revision it replaces."""
        return self._guarded_put(self._invoice_item(invoice), expected_revision)

    def _transact(self, items: list[dict[str, Any]], conflict: str) -> None:
        """One transaction; a failed condition is a lost race (``ConcurrentUpdate``, retried by the use case)."""
        transact_write(self._table.meta.client, items, lambda _failed: ConcurrentUpdate(conflict))

    # -- items ----------------------------------------------------------------------------------------
    @staticmethod
    def _invoice_item(i: Invoice) -> dict[str, Any]:
        return {
            **invoice_key(i.tenant_id, i.invoice_id),
            "item_type": "INVOICE",
            "gsi1pk": customer_invoices_gsi1pk(i.tenant_id, i.customer_id),
            "gsi1sk": customer_invoices_gsi1sk(i.period_start, i.invoice_id),
            "customer_id": i.customer_id,
            "subscription_id": i.subscription_id,
            "status": i.status.value,
            "revision": i.revision,
            "doc": i.to_json(),
        }

    @staticmethod
    def _note_item(n: CreditNote) -> dict[str, Any]:
        return {
            **credit_note_key(n.tenant_id, n.credit_note_id),
            "item_type": "CREDIT_NOTE",
            "gsi1pk": customer_credit_notes_gsi1pk(n.tenant_id, n.customer_id),
            "gsi1sk": customer_credit_notes_gsi1sk(n.created_at, n.credit_note_id),
            "invoice_id": n.invoice_id,
            "currency": n.currency,
            "available": n.balance > 0,
            "revision": n.revision,
            "doc": n.to_json(),
        }

    @staticmethod
    def _wallet_item(w: Wallet) -> dict[str, Any]:
        return {
            **wallet_key(w.tenant_id, w.wallet_id),
            "item_type": "WALLET",
            "gsi1pk": customer_wallets_gsi1pk(w.tenant_id, w.customer_id),
            "gsi1sk": w.currency,
            "revision": w.revision,
            "doc": w.to_json(),
        }

    # -- invoices -------------------------------------------------------------------------------------
    def get_invoice(self, tenant_id: str, invoice_id: str) -> Invoice | None:
        item = self._get(invoice_key(tenant_id, invoice_id))
        return Invoice.from_json(plain_json(item["doc"])) if item else None

    def list_invoices(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int = 100,
    ) -> list[Invoice]:
        from boto3.dynamodb.conditions import Attr, Key

        kwargs: dict[str, Any]
        if customer_id:
            kwargs = {
                "IndexName": "gsi1",
                "KeyConditionExpression": Key("gsi1pk").eq(customer_invoices_gsi1pk(tenant_id, customer_id)),
            }
        else:
            kwargs = {
                "KeyConditionExpression": Key("pk").eq(tenant_pk(tenant_id)) & Key("sk").begins_with(INVOICE_PREFIX)
            }
        condition = None
        if subscription_id:
            condition = Attr("subscription_id").eq(subscription_id)
        if status:
            by_status = Attr("status").eq(status.value)
            condition = by_status if condition is None else condition & by_status
        if condition is not None:
            kwargs["FilterExpression"] = condition
        invoices = [Invoice.from_json(plain_json(i["doc"])) for i in query_all(self._table, **kwargs)]
        return sorted(invoices, key=lambda i: (i.period_start, i.invoice_id), reverse=True)[:limit]

    def page_invoices(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        subscription_id: str | None = None,
        status: InvoiceStatus | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """A customer's invoices newest period first (gsi1), or the tenant's by invoice id (its own key
        order: no tenant-wide index partition that every invoice write would hit)."""
        from boto3.dynamodb.conditions import Attr

        conditions = [Attr("subscription_id").eq(subscription_id)] if subscription_id else []
        if status:
            conditions.append(Attr("status").eq(status.value))
        only = reduce(lambda a, b: a & b, conditions) if conditions else None
        if customer_id:
            partition = ("gsi1pk", customer_invoices_gsi1pk(tenant_id, customer_id))
            query = PageQuery(partition=partition, index="gsi1", newest_first=True, filter=only)
        else:
            query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=INVOICE_PREFIX, filter=only)
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda i: Invoice.from_json(plain_json(i["doc"])))

    def commit(self, write: BillingWrite) -> None:
        items: list[dict[str, Any]] = []
        if write.invoice is not None:
            items.append(self.invoice_put(write.invoice, write.invoice_expected_revision))
        for note, expected in write.credit_notes:
            items.append(self._guarded_put(self._note_item(note), expected))
        if write.wallet is not None:
            wallet, expected = write.wallet
            items.append(self._guarded_put(self._wallet_item(wallet), expected))
        if write.charges is not None:
            c = write.charges
            values: dict[str, Any] = {":expected": c.expected_version, ":next": c.expected_version + 1}
            sets, removes = ["#v = :next"], []
            if c.remaining:
                sets.append("pending_charges = :rest")
                values[":rest"] = [list(x) for x in c.remaining]
            else:
                removes.append("pending_charges")
            if c.billed_through is not None:
                sets.append("billed_through = :bt")
                values[":bt"] = to_rfc3339(c.billed_through)
                if c.next_period_end is not None:  # the sparse due index of subscriptions to bill (gsi2)
                    sets += ["gsi2pk = :dpk", "gsi2sk = :dsk"]
                    values[":dpk"] = billing_due_gsi2pk(c.tenant_id, c.subscription_id)
                    values[":dsk"] = billing_due_gsi2sk(c.next_period_end, c.subscription_id)
                else:
                    removes += ["gsi2pk", "gsi2sk"]
            if c.discount_used:
                if c.discount_after:
                    sets.append("discount = :disc")
                    values[":disc"] = c.discount_after
                else:
                    removes.append("discount")
            items.append(
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": subscription_key(c.tenant_id, c.subscription_id),
                        "UpdateExpression": "SET "
                        + ", ".join(sets)
                        + (" REMOVE " + ", ".join(removes) if removes else ""),
                        "ConditionExpression": "#v = :expected",
                        "ExpressionAttributeNames": {"#v": "version"},
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        items += [outbox_put(self.table_name, e) for e in write.events]
        if items:
            self._transact(
                items,
                "The invoice, its subscription, a credit note or the wallet changed meanwhile; read again and retry.",
            )

    def prefetch(
        self, tenant_id: str, *, customer_ids: list[str], invoice_ids: list[str], wallet_ids: list[str]
    ) -> tuple[dict[str, Any], dict[str, Invoice], dict[str, Wallet]]:
        """Customers, invoices and wallets of a bill-run page in BatchGetItem calls (absent ones are left out)."""
        from tollgate.adapters.dynamodb.codec import batch_get
        from tollgate.adapters.dynamodb.customers import customer_from_item

        wanted = {
            "customer": {c: customer_key(tenant_id, c) for c in customer_ids},
            "invoice": {i: invoice_key(tenant_id, i) for i in invoice_ids},
            "wallet": {w: wallet_key(tenant_id, w) for w in wallet_ids},
        }
        items = batch_get(self._table, [key for keys in wanted.values() for key in keys.values()])
        found = {
            noun: {id_: items[(key["pk"], key["sk"])] for id_, key in keys.items() if (key["pk"], key["sk"]) in items}
            for noun, keys in wanted.items()
        }
        customers = {c: customer_from_item(item) for c, item in found["customer"].items()}
        invoices = {i: Invoice.from_json(plain_json(item["doc"])) for i, item in found["invoice"].items()}
        wallets = {w: Wallet.from_json(plain_json(item["doc"])) for w, item in found["wallet"].items()}
        return customers, invoices, wallets

    def get_delivery(self, tenant_id: str, invoice_id: str) -> InvoiceDelivery | None:
        item = self._get(invoice_delivery_key(tenant_id, invoice_id))
        return InvoiceDelivery.from_json(tenant_id, plain_json(item["doc"])) if item else None

    def save_delivery(self, delivery: InvoiceDelivery, events: list[DomainEvent]) -> None:
        item = {
            **invoice_delivery_key(delivery.tenant_id, delivery.invoice_id),
            "item_type": "INVOICE_DELIVERY",
            "doc": delivery.to_json(),
        }
        items = [{"Put": {"TableName": self.table_name, "Item": storable(item)}}]
        items += [outbox_put(self.table_name, e) for e in events]
        self._transact(items, "The invoice delivery record changed meanwhile; retry.")

    # -- credit notes ---------------------------------------------------------------------------------
    def get_credit_note(self, tenant_id: str, credit_note_id: str) -> CreditNote | None:
        item = self._get(credit_note_key(tenant_id, credit_note_id))
        return CreditNote.from_json(plain_json(item["doc"])) if item else None

    def page_credit_notes(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        invoice_id: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[CreditNote]:
        """A customer's credit notes oldest first (gsi1), or the tenant's by credit note id."""
        from boto3.dynamodb.conditions import Attr

        only = Attr("invoice_id").eq(invoice_id) if invoice_id else None
        if customer_id:
            partition = ("gsi1pk", customer_credit_notes_gsi1pk(tenant_id, customer_id))
            query = PageQuery(partition=partition, index="gsi1", filter=only)
        else:
            query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=CREDIT_NOTE_PREFIX, filter=only)
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda i: CreditNote.from_json(plain_json(i["doc"])))

    def list_credit_notes(
        self, tenant_id: str, *, customer_id: str | None = None, invoice_id: str | None = None
    ) -> list[CreditNote]:
        """Every matching credit note (the port's list): ``page_credit_notes`` followed to the last page."""
        notes: list[CreditNote] = []
        cursor: str | None = None
        while True:
            page = self.page_credit_notes(
                tenant_id, customer_id=customer_id, invoice_id=invoice_id, limit=100, cursor=cursor
            )
            notes.extend(page.data)
            if page.next_cursor is None:
                return notes
            cursor = page.next_cursor

    def available_credit_notes(self, tenant_id: str, customer_id: str, currency: str) -> list[CreditNote]:
        from boto3.dynamodb.conditions import Attr, Key

        items = query_all(
            self._table,
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(customer_credit_notes_gsi1pk(tenant_id, customer_id)),
            FilterExpression=Attr("available").eq(True) & Attr("currency").eq(currency),
        )
        # The index is eventually consistent: read each candidate strongly for its current balance.
        notes = [self.get_credit_note(tenant_id, i["doc"]["id"]) for i in items]
        return sorted(
            (n for n in notes if n is not None and n.balance > 0), key=lambda n: (n.created_at, n.credit_note_id)
        )

    # -- wallets --------------------------------------------------------------------------------------
    def get_wallet(self, tenant_id: str, wallet_id: str) -> Wallet | None:
        item = self._get(wallet_key(tenant_id, wallet_id))
        return Wallet.from_json(plain_json(item["doc"])) if item else None

    def find_wallet(self, tenant_id: str, customer_id: str, currency: str) -> Wallet | None:
        from tollgate.domain.billing.wallets import wallet_id_for

        return self.get_wallet(tenant_id, wallet_id_for(tenant_id, customer_id, currency))

    def page_wallets(
        self, tenant_id: str, *, customer_id: str | None = None, limit: int, cursor: str | None = None
    ) -> Page[Wallet]:
        """A customer's wallets by currency (gsi1), or the tenant's by wallet id."""
        if customer_id:
            partition = ("gsi1pk", customer_wallets_gsi1pk(tenant_id, customer_id))
            query = PageQuery(partition=partition, index="gsi1")
        else:
            query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=WALLET_PREFIX)
        page = query_page(self._table, query, limit=limit, cursor=cursor)
        return page.map(lambda i: Wallet.from_json(plain_json(i["doc"])))

    def save_wallet(self, wallet: Wallet, expected_revision: int | None, events: list[DomainEvent]) -> None:
        self.commit(BillingWrite(wallet=(wallet, expected_revision), events=events))

    # -- settings -------------------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> BillingSettings:
        item = self._get(billing_settings_key(tenant_id))
        return BillingSettings.from_json(tenant_id, plain_json(item["doc"])) if item else BillingSettings(tenant_id)

    def save_settings(self, settings: BillingSettings, expected_revision: int, events: list[DomainEvent]) -> None:
        item = {
            **billing_settings_key(settings.tenant_id),
            "item_type": "BILLING_SETTINGS",
            "revision": settings.revision,
            "doc": settings.to_json(),
        }
        put = self._guarded_put(item, expected_revision if expected_revision else None)
        self._transact(
            [put, *(outbox_put(self.table_name, e) for e in events)],
            "The billing settings changed meanwhile; read them again.",
        )
