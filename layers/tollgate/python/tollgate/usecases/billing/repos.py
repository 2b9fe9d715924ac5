"""What the billing use cases touch (``tollgate.wiring.billing_repos()`` builds it on AWS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tollgate.domain.billing.tax import BUILTIN, BuiltinTaxProvider
from tollgate.domain.clock import utcnow
from tollgate.ports.billing import (
    BillingSettingsRepository,
    CreditNoteRepository,
    InvoiceRepository,
    Mailer,
    TaxProvider,
    UsageReader,
    WalletRepository,
)
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.customers import CustomerRepository, SubscriptionRepository
from tollgate.ports.usage_watermarks import UsageWatermarks


@dataclass(frozen=True)
class BillingRepos:
    """Everything the billing use cases touch (``tollgate.wiring.billing_repos()`` builds it on AWS)."""

    subscriptions: SubscriptionRepository
    customers: CustomerRepository
    catalog: CatalogRepository
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    wallets: WalletRepository
    settings: BillingSettingsRepository
    usage: UsageReader
    mailer: Mailer
    # External tax engines by name; "builtin" (the tenant's own rates) is always available.
    tax_providers: Mapping[str, TaxProvider] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    # The aggregator's watermarks: a bill run waits for them (None: no wait, e.g. the in-memory fakes).
    watermarks: UsageWatermarks | None = None

    def tax_provider(self, name: str) -> TaxProvider | None:
        if name == BUILTIN:
            return self.tax_providers.get(BUILTIN) or BuiltinTaxProvider()
        return self.tax_providers.get(name)

    def tax_provider_names(self) -> list[str]:
        return sorted({BUILTIN, *self.tax_providers})
