"""What the gateway use cases depend on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tollgate.domain.clock import utcnow
from tollgate.ports import TenancyRepository
from tollgate.ports.billing import InvoiceRepository, UsageReader
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.gateway import GatewayStore
from tollgate.ports.gateway_links import GatewayLinkRepository


@dataclass
class GatewayRepos:
    store: GatewayStore
    tenancy: TenancyRepository
    customers: CustomerRepository
    subscriptions: SubscriptionRepository
    catalog: CatalogRepository
    invoices: InvoiceRepository
    wallets: Any  # find_wallet(tenant_id, customer_id, currency) (the billing repository)
    payments: Any  # get_payment_settings(tenant_id) (the payment repository)
    usage: UsageReader
    ingest: Callable[[], Any]  # the ingestion deps (built only when metering)
    clock: Callable[[], datetime] = utcnow
    links: GatewayLinkRepository | None = None  # product gateway links: the snapshot's usage identifier
