"""The product catalog: products, meters, plans and their versions (quoting a price: ``usecases/prices``).

Every function acts for ``caller.tenant_id`` only: an id of another tenant answers the same 404 as
an id that does not exist ("Product not found: prod_x").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from tollgate.domain.access import Caller
from tollgate.domain.catalog import (
    Meter,
    MeterAction,
    MeterStatus,
    Plan,
    PlanVersion,
    PlanVersionRef,
    Product,
    ProductAction,
    ProductStatus,
    VersionAction,
    VersionStatus,
    new_meter,
    new_plan,
    new_product,
    parse_content,
)
from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.catalog.plan_prices import CONTENT_FIELDS
from tollgate.domain.catalog.plans import current_after_archiving, first_version, next_version
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.event_types import MeterData, PlanData, PlanVersionData, ProductData
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.ports.catalog import CatalogRepository

T = TypeVar("T", Product, Meter, Plan, PlanVersion)
Clock = Callable[[], datetime]  # the use cases take the time from ``clock`` (the system clock by default)


def _next(entity: T, current: T) -> T:
    """``entity`` as the revision after ``current`` (what a conditional save writes)."""
    return replace(entity, revision=current.revision + 1)


# -- products ---------------------------------------------------------------------------------------


def _product_event(type_: str, product: Product) -> DomainEvent:
    data: ProductData = {"product_id": product.product_id, "name": product.name, "status": product.status.value}
    return DomainEvent(type_, product.tenant_id, product.updated_at, {**data}).with_id(
        product.product_id, type_, str(product.revision)
    )


def create_product(
    repo: CatalogRepository, caller: Caller, data: Mapping[str, Any], *, clock: Clock = utcnow
) -> Product:
    product = new_product(product_id=new_id("prod"), tenant_id=caller.tenant_id, data=data, at=clock())
    repo.add_product(product, [_product_event("product.created", product)])
    return product


def list_products(repo: CatalogRepository, caller: Caller, *, status: ProductStatus | None = None) -> list[Product]:
    return sorted(repo.list_products(caller.tenant_id, status=status), key=lambda p: (p.created_at, p.product_id))


def get_product(repo: CatalogRepository, caller: Caller, product_id: str) -> Product:
    product = repo.get_product(caller.tenant_id, product_id) if is_identifier(product_id) else None
    if product is None:
        raise NotFound(f"Product not found: {shown(product_id)}")
    return product


def update_product(
    repo: CatalogRepository, caller: Caller, product_id: str, changes: Mapping[str, Any], *, clock: Clock = utcnow
) -> Product:
    current = get_product(repo, caller, product_id)
    edited = current.edited(changes, clock())
    if edited == current:
        return current  # e.g. PATCH {"status": "PUBLISHED"} of a published product
    product = _next(edited, current)
    events = [_product_event("product.updated", product)] if set(changes) - {"status"} else []
    if product.status is not current.status:
        events.append(_product_event(f"product.{product.status.value.lower()}", product))
    repo.save_product(product, events)
    return product


def archive_product(repo: CatalogRepository, caller: Caller, product_id: str, *, clock: Clock = utcnow) -> Product:
    current = get_product(repo, caller, product_id)
    product = _next(current.apply(ProductAction.ARCHIVE, clock()), current)
    repo.save_product(product, [_product_event("product.archived", product)])
    return product


# -- meters -----------------------------------------------------------------------------------------


def _meter_event(type_: str, meter: Meter) -> DomainEvent:
    data: MeterData = {
        "meter_id": meter.meter_id,
        "event_name": meter.event_name,
        "aggregation": meter.aggregation.to_json(),
        "usage_reset": meter.usage_reset.value,
        "status": meter.status.value,
    }
    return DomainEvent(type_, meter.tenant_id, meter.updated_at, {**data}).with_id(
        meter.meter_id, type_, str(meter.revision)
    )


def _event_name_taken(holder: Meter) -> Conflict:
    return Conflict(
        f"Event name {holder.event_name!r} is already used by active meter {holder.meter_id}. Event names are unique "
        f"among active meters: archive {holder.meter_id} first (POST /v1/meters/{holder.meter_id}/archive) or use "
        "another event name.",
        code="EVENT_NAME_TAKEN",
        meter_id=holder.meter_id,
    )


def _check_event_name_free(repo: CatalogRepository, meter: Meter) -> None:
    holder = repo.find_meter_by_event_name(meter.tenant_id, meter.event_name)
    if holder is not None and holder.status is MeterStatus.ACTIVE and holder.meter_id != meter.meter_id:
        raise _event_name_taken(holder)


def create_meter(repo: CatalogRepository, caller: Caller, data: Mapping[str, Any], *, clock: Clock = utcnow) -> Meter:
    meter = new_meter(meter_id=new_id("mtr"), tenant_id=caller.tenant_id, data=data, at=clock())
    _check_event_name_free(repo, meter)
    repo.add_meter(meter, [_meter_event("meter.created", meter)])
    return meter


def list_meters(
    repo: CatalogRepository, caller: Caller, *, status: MeterStatus | None = None, event_name: str | None = None
) -> list[Meter]:
    if event_name is not None:
        meters = [
            m
            for m in repo.find_meters_by_event_name_ignoring_case(caller.tenant_id, event_name)
            if m.event_name == event_name
        ]
        meters = [m for m in meters if status is None or m.status is status]
    else:
        meters = repo.list_meters(caller.tenant_id, status=status)
    return sorted(meters, key=lambda m: (m.created_at, m.meter_id))


def get_meter(repo: CatalogRepository, caller: Caller, meter_id: str) -> Meter:
    meter = repo.get_meter(caller.tenant_id, meter_id) if is_identifier(meter_id) else None
    if meter is None:
        raise NotFound(f"Meter not found: {shown(meter_id)}")
    return meter


def update_meter(
    repo: CatalogRepository, caller: Caller, meter_id: str, changes: Mapping[str, Any], *, clock: Clock = utcnow
) -> Meter:
    current = get_meter(repo, caller, meter_id)
    if not changes:
        return current
    meter = _next(current.edited(changes, clock()), current)
    if meter.event_name != current.event_name:
        _check_event_name_free(repo, meter)
    repo.save_meter(meter, current, [_meter_event("meter.updated", meter)])
    return meter


def archive_meter(repo: CatalogRepository, caller: Caller, meter_id: str, *, clock: Clock = utcnow) -> Meter:
    current = get_meter(repo, caller, meter_id)
    meter = _next(current.apply(MeterAction.ARCHIVE, clock()), current)
    repo.save_meter(meter, current, [_meter_event("meter.archived", meter)])
    return meter


def activate_meter(repo: CatalogRepository, caller: Caller, meter_id: str, *, clock: Clock = utcnow) -> Meter:
    """Seed 001, "Feature Not Active": an archived meter can be made active again (if no other active
    meter has taken its event name meanwhile)."""
    current = get_meter(repo, caller, meter_id)
    meter = _next(current.apply(MeterAction.ACTIVATE, clock()), current)
    _check_event_name_free(repo, meter)
    repo.save_meter(meter, current, [_meter_event("meter.activated", meter)])
    return meter


# -- plans ------------------------------------------------------------------------------------------


def _plan_event(type_: str, plan: Plan) -> DomainEvent:
    data: PlanData = {
        "plan_id": plan.plan_id,
        "name": plan.name,
        "currency": plan.currency,
        "current_version": plan.current_version,
    }
    return DomainEvent(type_, plan.tenant_id, plan.updated_at, {**data}).with_id(
        plan.plan_id, type_, str(plan.revision)
    )


def _version_event(type_: str, plan: Plan, version: PlanVersion, **extra: Any) -> DomainEvent:
    data: PlanVersionData = {
        "plan_id": version.plan_id,
        "version": version.version,
        "status": version.status.value,
        "currency": version.currency,
        "current_version": plan.current_version,
        "meter_ids": version.content.meter_ids(),
    }
    return DomainEvent(type_, version.tenant_id, version.updated_at, {**data, **extra}).with_id(
        version.plan_id, str(version.version), type_, str(version.revision)
    )


def _check_product(repo: CatalogRepository, caller: Caller, product_id: str | None) -> None:
    if product_id is None:
        return
    product = repo.get_product(caller.tenant_id, product_id)
    if product is None:
        raise InvalidInput(f"product_id: Product not found: {product_id}", field="product_id")
    if product.status is ProductStatus.ARCHIVED:
        raise Conflict(f"Product {product_id} is ARCHIVED: plans cannot be attached to an archived product.")


def create_plan(
    repo: CatalogRepository, caller: Caller, data: Mapping[str, Any], *, clock: Clock = utcnow
) -> tuple[Plan, PlanVersion]:
    """A plan and its version 1 (DRAFT) from the plan fields plus the version's prices."""
    plan_data = {k: v for k, v in data.items() if k not in CONTENT_FIELDS}
    plan = new_plan(plan_id=new_id("plan"), tenant_id=caller.tenant_id, data=plan_data, at=clock())
    content = parse_content({k: v for k, v in data.items() if k in CONTENT_FIELDS}, plan.currency)
    _check_product(repo, caller, plan.product_id)
    version = first_version(plan, content)
    repo.add_plan(
        plan, version, [_plan_event("plan.created", plan), _version_event("plan_version.created", plan, version)]
    )
    return plan, version


def list_plans(repo: CatalogRepository, caller: Caller) -> list[Plan]:
    return sorted(repo.list_plans(caller.tenant_id), key=lambda p: (p.created_at, p.plan_id))


def get_plan(repo: CatalogRepository, caller: Caller, plan_id: str) -> Plan:
    plan = repo.get_plan(caller.tenant_id, plan_id) if is_identifier(plan_id) else None
    if plan is None:
        raise NotFound(f"Plan not found: {shown(plan_id)}")
    return plan


def get_plan_with_versions(repo: CatalogRepository, caller: Caller, plan_id: str) -> tuple[Plan, list[PlanVersion]]:
    plan = get_plan(repo, caller, plan_id)
    return plan, sorted(repo.list_versions(caller.tenant_id, plan_id), key=lambda v: v.version)


def update_plan(
    repo: CatalogRepository, caller: Caller, plan_id: str, changes: Mapping[str, Any], *, clock: Clock = utcnow
) -> Plan:
    current = get_plan(repo, caller, plan_id)
    if not changes:
        return current
    plan = _next(current.edited(changes, clock()), current)
    if plan.product_id != current.product_id:
        _check_product(repo, caller, plan.product_id)
    repo.save_plan(plan, [_plan_event("plan.updated", plan)])
    return plan


def get_plan_version(repo: CatalogRepository, caller: Caller, plan_id: str, version: int) -> tuple[Plan, PlanVersion]:
    plan = get_plan(repo, caller, plan_id)
    found = repo.get_version(caller.tenant_id, plan_id, version)
    if found is None:
        raise NotFound(f"Plan version not found: {plan_id} version {version}")
    return plan, found


def replace_draft(
    repo: CatalogRepository,
    caller: Caller,
    plan_id: str,
    version: int,
    data: Mapping[str, Any],
    *,
    clock: Clock = utcnow,
) -> tuple[Plan, PlanVersion]:
    """Replace the prices of a DRAFT version (PUT); a PUBLISHED or ARCHIVED version is a 409."""
    plan, current = get_plan_version(repo, caller, plan_id, version)
    now = clock()
    current.apply(VersionAction.EDIT, now)  # the lifecycle answer first, before judging the payload
    content = parse_content(data, plan.currency)
    updated = _next(current.with_content(content, now), current)
    repo.save_version(updated, [_version_event("plan_version.updated", plan, updated)])
    return plan, updated


def create_plan_version(
    repo: CatalogRepository, caller: Caller, plan_id: str, *, clock: Clock = utcnow
) -> tuple[Plan, PlanVersion]:
    """A new DRAFT version numbered after the latest, with a copy of the latest version's prices."""
    current_plan, versions = get_plan_with_versions(repo, caller, plan_id)
    draft = next((v for v in versions if v.status is VersionStatus.DRAFT), None)
    if draft is not None:
        raise Conflict(
            f"Plan {plan_id} already has a DRAFT version ({draft.version}): edit it with PUT "
            f"/v1/plans/{plan_id}/versions/{draft.version}, publish it, or archive it first.",
            code="DRAFT_EXISTS",
            version=draft.version,
        )
    latest = versions[-1]
    now = clock()
    version = next_version(current_plan, latest, now)
    plan = _next(replace(current_plan, latest_version=version.version, updated_at=now), current_plan)
    repo.add_version(plan, version, [_version_event("plan_version.created", plan, version, copied_from=latest.version)])
    return plan, version


def _referenced_meters(repo: CatalogRepository, caller: Caller, version: PlanVersion) -> list[Meter]:
    meters = []
    for meter_id in version.content.meter_ids():
        meter = repo.get_meter(caller.tenant_id, meter_id)
        if meter is None:
            raise Conflict(
                f"Cannot publish {version.subject.lower()}: meter {meter_id} does not exist. Create it "
                "(POST /v1/meters) or remove it from the version.",
                code="METER_NOT_FOUND",
                meter_id=meter_id,
            )
        if meter.status is not MeterStatus.ACTIVE:
            raise Conflict(
                f"Cannot publish {version.subject.lower()}: meter {meter_id} is {meter.status.value}. Activate it "
                f"(POST /v1/meters/{meter_id}/activate) or remove it from the version.",
                code="METER_NOT_ACTIVE",
                meter_id=meter_id,
            )
        meters.append(meter)
    return meters


def publish_plan_version(
    repo: CatalogRepository, caller: Caller, plan_id: str, version: int, *, clock: Clock = utcnow
) -> tuple[Plan, PlanVersion]:
    """DRAFT -> PUBLISHED: the version becomes the plan's current version and locks its meters' definitions.
    Older published versions stay PUBLISHED (superseded) for the subscriptions pinned to them."""
    current_plan, current = get_plan_version(repo, caller, plan_id, version)
    now = clock()
    published = _next(current.apply(VersionAction.PUBLISH, now), current)
    ref = PlanVersionRef(plan_id, version)
    meters = [_next(m.used_by(ref), m) for m in _referenced_meters(repo, caller, current)]
    previous = current_plan.current_version
    plan = _next(replace(current_plan, current_version=version, updated_at=now), current_plan)
    event = _version_event("plan_version.published", plan, published, previous_version=previous)
    repo.publish_version(plan, published, meters, [event])
    return plan, published


def archive_plan_version(
    repo: CatalogRepository, caller: Caller, plan_id: str, version: int, *, clock: Clock = utcnow
) -> tuple[Plan, PlanVersion]:
    """DRAFT or PUBLISHED -> ARCHIVED. Archiving the current version makes the highest other published
    version current (or none)."""
    current_plan, versions = get_plan_with_versions(repo, caller, plan_id)
    current = next((v for v in versions if v.version == version), None)
    if current is None:
        raise NotFound(f"Plan version not found: {plan_id} version {version}")
    now = clock()
    archived = _next(current.apply(VersionAction.ARCHIVE, now), current)
    meters: list[Meter] = []
    if current.status is VersionStatus.PUBLISHED:
        ref = PlanVersionRef(plan_id, version)
        for meter_id in current.content.meter_ids():
            meter = repo.get_meter(caller.tenant_id, meter_id)
            if meter is not None and ref in meter.published_in:
                meters.append(_next(meter.released_by(ref), meter))
    new_current = current_after_archiving(current_plan, versions, version)
    plan = _next(replace(current_plan, current_version=new_current, updated_at=now), current_plan)
    repo.archive_version(plan, archived, meters, [_version_event("plan_version.archived", plan, archived)])
    return plan, archived
