"""In-memory fake of the CatalogRepository port (same contract as the DynamoDB adapter)."""

from __future__ import annotations

from tollgate.domain.catalog import Meter, MeterStatus, Plan, PlanVersion, Product, ProductStatus
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.events import DomainEvent
from tollgate.ports.catalog import CatalogRepository


class InMemoryCatalogRepository:
    def __init__(self) -> None:
        self.products: dict[tuple[str, str], Product] = {}
        self.meters: dict[tuple[str, str], Meter] = {}
        self.plans: dict[tuple[str, str], Plan] = {}
        self.versions: dict[tuple[str, str, int], PlanVersion] = {}
        self.claims: dict[tuple[str, str], str] = {}  # (tenant, event name) -> the ACTIVE meter holding it
        self.events: list[DomainEvent] = []

    # -- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _check_revision(stored, new, what: str) -> None:
        if stored is None or stored.revision != new.revision - 1:
            raise ConcurrentUpdate(f"{what} was changed by another request; fetch it again and retry.")

    def _claim_conflict(self, tenant_id: str, event_name: str) -> Conflict:
        holder = self.claims[(tenant_id, event_name)]
        return Conflict(f"Event name {event_name!r} is already used by active meter {holder}.", code="EVENT_NAME_TAKEN")

    # -- products ------------------------------------------------------------------------------------
    def add_product(self, product: Product, events: list[DomainEvent]) -> None:
        key = (product.tenant_id, product.product_id)
        if key in self.products:
            raise Conflict(f"Product {product.product_id} already exists.")
        self.products[key] = product
        self.events.extend(events)

    def get_product(self, tenant_id: str, product_id: str) -> Product | None:
        return self.products.get((tenant_id, product_id))

    def list_products(self, tenant_id: str, *, status: ProductStatus | None = None) -> list[Product]:
        return [p for (t, _), p in self.products.items() if t == tenant_id and (status is None or p.status is status)]

    def save_product(self, product: Product, events: list[DomainEvent]) -> None:
        key = (product.tenant_id, product.product_id)
        self._check_revision(self.products.get(key), product, f"Product {product.product_id}")
        self.products[key] = product
        self.events.extend(events)

    # -- meters --------------------------------------------------------------------------------------
    def add_meter(self, meter: Meter, events: list[DomainEvent]) -> None:
        key = (meter.tenant_id, meter.meter_id)
        if key in self.meters:
            raise Conflict(f"Meter {meter.meter_id} already exists.")
        if meter.status is MeterStatus.ACTIVE:
            if (meter.tenant_id, meter.event_name) in self.claims:
                raise self._claim_conflict(meter.tenant_id, meter.event_name)
            self.claims[(meter.tenant_id, meter.event_name)] = meter.meter_id
        self.meters[key] = meter
        self.events.extend(events)

    def get_meter(self, tenant_id: str, meter_id: str) -> Meter | None:
        return self.meters.get((tenant_id, meter_id))

    def list_meters(self, tenant_id: str, *, status: MeterStatus | None = None) -> list[Meter]:
        return [m for (t, _), m in self.meters.items() if t == tenant_id and (status is None or m.status is status)]

    def save_meter(self, meter: Meter, previous: Meter, events: list[DomainEvent]) -> None:
        key = (meter.tenant_id, meter.meter_id)
        self._check_revision(self.meters.get(key), meter, f"Meter {meter.meter_id}")
        self._move_claim(meter, previous)
        self.meters[key] = meter
        self.events.extend(events)

    def _move_claim(self, meter: Meter, previous: Meter) -> None:
        was = previous.event_name if previous.status is MeterStatus.ACTIVE else None
        now = meter.event_name if meter.status is MeterStatus.ACTIVE else None
        if was == now:
            return
        if now is not None and (meter.tenant_id, now) in self.claims:
            raise self._claim_conflict(meter.tenant_id, now)
        if was is not None:
            self.claims.pop((meter.tenant_id, was), None)
        if now is not None:
            self.claims[(meter.tenant_id, now)] = meter.meter_id

    def find_meter_by_event_name(self, tenant_id: str, event_name: str) -> Meter | None:
        found = [m for (t, _), m in self.meters.items() if t == tenant_id and m.event_name == event_name]
        active = [m for m in found if m.status is MeterStatus.ACTIVE]
        if active:
            return active[0]
        return max(found, key=lambda m: (m.archived_at or m.updated_at, m.meter_id), default=None)

    def find_meters_by_event_name_ignoring_case(self, tenant_id: str, event_name: str) -> list[Meter]:
        folded = event_name.casefold()
        return [m for (t, _), m in self.meters.items() if t == tenant_id and m.event_name.casefold() == folded]

    # -- plans ---------------------------------------------------------------------------------------
    def add_plan(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        key = (plan.tenant_id, plan.plan_id)
        if key in self.plans:
            raise Conflict(f"Plan {plan.plan_id} already exists.")
        self.plans[key] = plan
        self.versions[(plan.tenant_id, plan.plan_id, version.version)] = version
        self.events.extend(events)

    def get_plan(self, tenant_id: str, plan_id: str) -> Plan | None:
        return self.plans.get((tenant_id, plan_id))

    def list_plans(self, tenant_id: str) -> list[Plan]:
        return [p for (t, _), p in self.plans.items() if t == tenant_id]

    def save_plan(self, plan: Plan, events: list[DomainEvent]) -> None:
        key = (plan.tenant_id, plan.plan_id)
        self._check_revision(self.plans.get(key), plan, f"Plan {plan.plan_id}")
        self.plans[key] = plan
        self.events.extend(events)

    def get_version(self, tenant_id: str, plan_id: str, version: int) -> PlanVersion | None:
        return self.versions.get((tenant_id, plan_id, version))

    def list_versions(self, tenant_id: str, plan_id: str) -> list[PlanVersion]:
        return sorted(
            (v for (t, p, _), v in self.versions.items() if t == tenant_id and p == plan_id), key=lambda v: v.version
        )

    def add_version(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        key = (plan.tenant_id, plan.plan_id, version.version)
        self._check_revision(self.plans.get((plan.tenant_id, plan.plan_id)), plan, f"Plan {plan.plan_id}")
        if key in self.versions:
            raise Conflict(f"Plan {plan.plan_id} version {version.version} already exists.")
        self.plans[(plan.tenant_id, plan.plan_id)] = plan
        self.versions[key] = version
        self.events.extend(events)

    def save_version(self, version: PlanVersion, events: list[DomainEvent]) -> None:
        key = (version.tenant_id, version.plan_id, version.version)
        self._check_revision(self.versions.get(key), version, version.subject)
        self.versions[key] = version
        self.events.extend(events)

    def _save_transition(
        self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]
    ) -> None:
        # Check everything first: the transaction writes all or nothing.
        self._check_revision(self.plans.get((plan.tenant_id, plan.plan_id)), plan, f"Plan {plan.plan_id}")
        vkey = (version.tenant_id, version.plan_id, version.version)
        self._check_revision(self.versions.get(vkey), version, version.subject)
        for meter in meters:
            self._check_revision(self.meters.get((meter.tenant_id, meter.meter_id)), meter, f"Meter {meter.meter_id}")
        self.plans[(plan.tenant_id, plan.plan_id)] = plan
        self.versions[vkey] = version
        for meter in meters:
            self.meters[(meter.tenant_id, meter.meter_id)] = meter
        self.events.extend(events)

    def publish_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        for meter in meters:
            stored = self.meters.get((meter.tenant_id, meter.meter_id))
            if stored is None or stored.status is not MeterStatus.ACTIVE:
                raise ConcurrentUpdate(
                    f"Meter {meter.meter_id} was changed by another request; fetch it again and retry."
                )
        self._save_transition(plan, version, meters, events)

    def archive_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        self._save_transition(plan, version, meters, events)


def _typed_against_the_port() -> CatalogRepository:
    """mypy checks the fake against ``CatalogRepository``: a drifted signature fails the type check."""
    return InMemoryCatalogRepository()
