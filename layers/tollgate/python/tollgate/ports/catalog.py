"""The catalog repository: products, meters, plans and plan versions of one tenant.

Contract every implementation keeps (the DynamoDB adapter and ``tests/fakes/catalog.py``):

- Reads take the caller's ``tenant_id``: another tenant's id finds nothing (None / not listed).
- Every ``add_*`` fails if the item exists; every ``save_*`` (and the items a ``publish_version`` /
  ``archive_version`` writes) is conditional on the stored revision being the new ``revision - 1``;
  a lost race raises ``Conflict``. Each call writes its items and ``events`` (the outbox) atomically.
- Among a tenant's ACTIVE meters an ``event_name`` is held by one meter: ``add_meter`` and a
  ``save_meter`` that activates a meter or renames an active one raise ``Conflict`` naming the holder.
"""

from __future__ import annotations

from typing import Protocol

from tollgate.domain.catalog import Meter, MeterStatus, Plan, PlanVersion, Product, ProductStatus
from tollgate.domain.events import DomainEvent


class CatalogRepository(Protocol):
    # -- products ----------------------------------------------------------------------------------
    def add_product(self, product: Product, events: list[DomainEvent]) -> None: ...

    def get_product(self, tenant_id: str, product_id: str) -> Product | None: ...

    def list_products(self, tenant_id: str, *, status: ProductStatus | None = None) -> list[Product]: ...

    def save_product(self, product: Product, events: list[DomainEvent]) -> None: ...

    # -- meters ------------------------------------------------------------------------------------
    def add_meter(self, meter: Meter, events: list[DomainEvent]) -> None: ...

    def get_meter(self, tenant_id: str, meter_id: str) -> Meter | None: ...

    def list_meters(self, tenant_id: str, *, status: MeterStatus | None = None) -> list[Meter]: ...

    def save_meter(self, meter: Meter, previous: Meter, events: list[DomainEvent]) -> None:
        """Write ``meter`` over ``previous`` (same id), moving the event-name claim when the status or
        the event name changes."""
        ...

    def find_meter_by_event_name(self, tenant_id: str, event_name: str) -> Meter | None:
        """The meter whose event name is exactly ``event_name`` (case-sensitive): the ACTIVE one if
        there is one, else the most recently archived one, else None."""
        ...

    def find_meters_by_event_name_ignoring_case(self, tenant_id: str, event_name: str) -> list[Meter]:
        """Every meter (ACTIVE or ARCHIVED) whose event name equals ``event_name`` ignoring case, for
        answers such as 'no meter for Model.Usage; did you mean model.usage?'."""
        ...

    # -- plans -------------------------------------------------------------------------------------
    def add_plan(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None: ...

    def get_plan(self, tenant_id: str, plan_id: str) -> Plan | None: ...

    def list_plans(self, tenant_id: str) -> list[Plan]: ...

    def save_plan(self, plan: Plan, events: list[DomainEvent]) -> None: ...

    def get_version(self, tenant_id: str, plan_id: str, version: int) -> PlanVersion | None: ...

    def list_versions(self, tenant_id: str, plan_id: str) -> list[PlanVersion]:
        """The plan's versions, oldest first."""
        ...

    def add_version(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        """Save ``plan`` (its ``latest_version`` moved on) and create ``version``."""
        ...

    def save_version(self, version: PlanVersion, events: list[DomainEvent]) -> None: ...

    def publish_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        """Save the plan (new ``current_version``), the now PUBLISHED version and its meters (each now
        listing the version in ``published_in``; each must still be ACTIVE) in one transaction."""
        ...

    def archive_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        """Save the plan, the now ARCHIVED version and the meters it released, in one transaction."""
        ...
