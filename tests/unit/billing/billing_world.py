"""A small billing world over in-memory fakes: a tenant, its catalog, customers, subscriptions, usage,
wallets, credit notes and settings, and a clock the tests set."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.fakes.billing import (
    InMemoryBilling,
    InMemoryCustomers,
    InMemorySubscriptions,
    InMemoryUsageReader,
    RecordingMailer,
)
from tests.fakes.catalog import InMemoryCatalogRepository
from tollgate.domain.catalog import PlanVersion, VersionStatus, new_meter, new_plan, parse_content
from tollgate.domain.catalog.plans import first_version
from tollgate.domain.customers import Customer
from tollgate.domain.periods import Anchor, Interval
from tollgate.domain.subscriptions import PlanRef, Subscription, SubscriptionStatus, Transition
from tollgate.usecases.billing import BillingRepos

TENANT = "ten_unit"
START = datetime(2026, 1, 1, tzinfo=UTC)  # calendar months: January is the first period
JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
FEB = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
MAR = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


@dataclass
class World:
    catalog: InMemoryCatalogRepository = field(default_factory=InMemoryCatalogRepository)
    customers: InMemoryCustomers = field(default_factory=InMemoryCustomers)
    subscriptions: InMemorySubscriptions = field(default_factory=InMemorySubscriptions)
    usage: InMemoryUsageReader = field(default_factory=InMemoryUsageReader)
    mailer: RecordingMailer = field(default_factory=RecordingMailer)
    tax_providers: dict = field(default_factory=dict)
    now: datetime = datetime(2026, 2, 1, 0, 30, tzinfo=UTC)  # just after January ended
    billing: InMemoryBilling = None  # type: ignore[assignment]
    _n: int = 0

    def __post_init__(self) -> None:
        self.billing = InMemoryBilling(self.subscriptions)

    @property
    def repos(self) -> BillingRepos:
        return BillingRepos(
            subscriptions=self.subscriptions,
            customers=self.customers,
            catalog=self.catalog,
            invoices=self.billing,
            credit_notes=self.billing,
            wallets=self.billing,
            settings=self.billing,
            usage=self.usage,
            mailer=self.mailer,
            tax_providers=self.tax_providers,
            clock=lambda: self.now,
        )

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def meter(
        self, event_name: str = "api.call", function: str = "COUNT", field_: str | None = None, reset: str = "PERIODIC"
    ) -> str:
        meter_id = self._id("mtr")
        aggregation = {"function": function, **({"field": field_} if field_ else {})}
        self.catalog.add_meter(
            new_meter(
                meter_id=meter_id,
                tenant_id=TENANT,
                data={"event_name": f"{event_name}.{meter_id}", "aggregation": aggregation, "usage_reset": reset},
                at=START,
            ),
            [],
        )
        return meter_id

    def plan(self, currency: str = "USD", **content: Any) -> PlanVersion:
        plan = new_plan(plan_id=self._id("plan"), tenant_id=TENANT, data={"name": "P", "currency": currency}, at=START)
        version = replace(
            first_version(plan, parse_content(content, currency)), status=VersionStatus.PUBLISHED, published_at=START
        )
        self.catalog.add_plan(replace(plan, current_version=1), version, [])
        return version

    def version(self, plan_id: str, number: int, currency: str = "USD", **content: Any) -> PlanVersion:
        base = self.catalog.get_version(TENANT, plan_id, 1)
        version = replace(base, version=number, content=parse_content(content, currency))
        self.catalog.versions[(TENANT, plan_id, number)] = version
        return version

    def customer(self, currency: str = "USD", email: str | None = "ada@example.com", **metadata: str) -> Customer:
        customer = Customer(
            self._id("cus"),
            TENANT,
            self._id("ext"),
            START,
            name="Ada",
            email=email,
            currency=currency,
            metadata=metadata,
        )
        self.customers.create(customer, [])
        return customer

    def subscribe(
        self, version: PlanVersion, customer: Customer | None = None, *, start: datetime = START, **fields: Any
    ) -> Subscription:
        customer = customer or self.customer(currency=version.currency)
        sub = Subscription(
            subscription_id=self._id("sub"),
            tenant_id=TENANT,
            customer_id=customer.customer_id,
            plan=PlanRef(version.plan_id, version.version),
            status=fields.pop("status", SubscriptionStatus.ACTIVE),
            started_at=start,
            interval=fields.pop("interval", Interval.MONTH),
            anchor=fields.pop("anchor", Anchor.CALENDAR),
            timezone="UTC",
            currency=version.currency,
            version=1,
            **fields,
        )
        history = [
            Transition(
                start, "CREATED", None, sub.status, {"plan_id": version.plan_id, "plan_version": version.version}
            )
        ]
        return self.subscriptions.put(sub, history)

    def record(self, sub: Subscription, meter_id: str, at: datetime, quantity: str | int = 1, times: int = 1) -> None:
        for _ in range(times):
            self.usage.record(TENANT, sub.customer_id, meter_id, at, quantity)

    def later(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


def money(value: str) -> Decimal:
    return Decimal(value)
