"""The page snapshot: what billing reads, read ahead in bulk for a page of a bill run.

Billing one subscription reads its subscription, customer, invoice (and delivery record), wallet, the
tenant's settings and the plan versions and meters of its plan. A bill run reads those of a whole page
in a few BatchGetItem calls first (``read_page``) and passes the snapshot to ``bill_subscription``; a
preview or a retry passes an empty one (``PageSnapshot(repos, tenant_id)``), which reads each item
when asked. Same pipeline, different data.

- Published plan versions never change, and a meter is locked while a published version uses it:
  they and the settings are kept for the whole page.
- The subscription, customer, invoice and wallet are what a bill writes or checks: after a lost race
  ``fresh()`` gives a snapshot that reads them again, so a retry always sees the current items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tollgate.domain.billing.delivery import InvoiceDelivery
from tollgate.domain.billing.invoices import ISSUED, Invoice, invoice_id_for
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.billing.wallets import Wallet, wallet_id_for
from tollgate.domain.catalog.meters import Meter
from tollgate.domain.catalog.plans import PlanVersion
from tollgate.domain.customers import Customer
from tollgate.domain.periods import Period
from tollgate.domain.subscriptions import PlanRef, Subscription
from tollgate.ports.billing import PageReader
from tollgate.usecases.billing.repos import BillingRepos


@dataclass
class CatalogReads:
    """Plan versions and meters read once per page (by many subscriptions on the same plan)."""

    versions: dict[tuple[str, int], PlanVersion | None] = field(default_factory=dict)
    meters: dict[str, Meter | None] = field(default_factory=dict)
    settings: BillingSettings | None = None


@dataclass(frozen=True)
class PageSnapshot:
    """Items already read for one tenant; anything not in it is read from the repositories.

    A value of ``None`` in a mapping means "read, and absent"; a missing key means "not read yet"."""

    repos: BillingRepos
    tenant_id: str
    subscriptions: Mapping[str, Subscription] = field(default_factory=dict)
    customers: Mapping[str, Customer | None] = field(default_factory=dict)
    invoices: Mapping[str, Invoice | None] = field(default_factory=dict)
    deliveries: Mapping[str, InvoiceDelivery | None] = field(default_factory=dict)
    wallets: Mapping[str, Wallet | None] = field(default_factory=dict)
    catalog: CatalogReads = field(default_factory=CatalogReads)

    def fresh(self) -> PageSnapshot:
        """The same page with its changeable items dropped (read again on a retry after a lost race)."""
        return replace(self, subscriptions={}, customers={}, invoices={}, wallets={})

    def subscription(self, subscription_id: str) -> Subscription | None:
        if subscription_id in self.subscriptions:
            return self.subscriptions[subscription_id]
        return self.repos.subscriptions.get(self.tenant_id, subscription_id)

    def customer(self, customer_id: str) -> Customer | None:
        if customer_id in self.customers:
            return self.customers[customer_id]
        return self.repos.customers.get(self.tenant_id, customer_id)

    def invoice(self, invoice_id: str) -> Invoice | None:
        if invoice_id in self.invoices:
            return self.invoices[invoice_id]
        return self.repos.invoices.get_invoice(self.tenant_id, invoice_id)

    def delivery(self, invoice_id: str) -> InvoiceDelivery | None:
        if invoice_id in self.deliveries:
            return self.deliveries[invoice_id]
        return self.repos.invoices.get_delivery(self.tenant_id, invoice_id)

    def wallet(self, customer_id: str, currency: str) -> Wallet | None:
        wallet_id = wallet_id_for(self.tenant_id, customer_id, currency)
        if wallet_id in self.wallets:
            return self.wallets[wallet_id]
        return self.repos.wallets.find_wallet(self.tenant_id, customer_id, currency)

    def settings(self) -> BillingSettings:
        if self.catalog.settings is None:
            self.catalog.settings = self.repos.settings.get_settings(self.tenant_id)
        return self.catalog.settings

    def version(self, ref: PlanRef) -> PlanVersion | None:
        key = (ref.plan_id, ref.version)
        if key not in self.catalog.versions:
            self.catalog.versions[key] = self.repos.catalog.get_version(self.tenant_id, ref.plan_id, ref.version)
        return self.catalog.versions[key]

    def meter(self, meter_id: str) -> Meter | None:
        if meter_id not in self.catalog.meters:
            self.catalog.meters[meter_id] = self.repos.catalog.get_meter(self.tenant_id, meter_id)
        return self.catalog.meters[meter_id]


def read_page(
    repos: BillingRepos,
    tenant_id: str,
    subscriptions: list[Subscription],
    periods: Mapping[str, Period],
    catalog: CatalogReads | None = None,
) -> PageSnapshot:
    """The snapshot of a bill-run page: the subscriptions (already read), their customers, invoices and
    wallets in a few BatchGetItem calls instead of one GetItem each. A brand-new invoice has no delivery
    record yet, so its email does not read one."""
    subs = {s.subscription_id: s for s in subscriptions}
    catalog = catalog or CatalogReads()
    if not isinstance(repos.invoices, PageReader):
        return PageSnapshot(repos, tenant_id, subscriptions=subs, catalog=catalog)
    customer_ids = sorted({s.customer_id for s in subscriptions})
    invoice_ids = [
        invoice_id_for(tenant_id, s.subscription_id, periods[s.subscription_id].start) for s in subscriptions
    ]
    wallet_ids = sorted({wallet_id_for(tenant_id, s.customer_id, s.currency) for s in subscriptions})
    customers, invoices, wallets = repos.invoices.prefetch(
        tenant_id, customer_ids=customer_ids, invoice_ids=invoice_ids, wallet_ids=wallet_ids
    )
    found_invoices = {i: invoices.get(i) for i in invoice_ids}
    return PageSnapshot(
        repos,
        tenant_id,
        subscriptions=subs,
        customers={c: customers.get(c) for c in customer_ids},
        invoices=found_invoices,
        # never sent: no delivery record
        deliveries={i: None for i, inv in found_invoices.items() if inv is None or inv.status not in ISSUED},
        wallets={w: wallets.get(w) for w in wallet_ids},
        catalog=catalog,
    )
