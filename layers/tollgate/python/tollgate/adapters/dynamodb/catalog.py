"""The product catalog in the main table. Every key starts with the tenant:

| item             | pk         | sk                               | gsi1pk                               | gsi1sk     |
|------------------|------------|----------------------------------|--------------------------------------|------------|
| product          | T#<tenant> | PRODUCT#<product_id>             |                                      |            |
| meter            | T#<tenant> | METER#<meter_id>                 | T#<tenant>#METER_EVENT#<folded name> | METER#<id> |
| event-name claim | T#<tenant> | METER_EVENT#<event_name>         |                                      |            |
| plan             | T#<tenant> | PLAN#<plan_id>                   |                                      |            |
| plan version     | T#<tenant> | PLANVER#<plan_id>#<version:010d> |                                      |            |

(``<folded name>`` is ``event_name.casefold()``; the claim item exists while the meter is ACTIVE.)

- Lists are queries on ``pk = T#<tenant>`` and a ``begins_with`` on the sort key (``PRODUCT#``,
  ``METER#``, ``PLAN#``, ``PLANVER#<plan_id>#``: zero-padded so versions come back in order).
- The event-name claim exists while a meter is ACTIVE: written with ``attribute_not_exists`` in the
  same transaction as the meter, it makes an event name unique among a tenant's active meters.
- gsi1 groups a tenant's meters by case-folded event name: one query answers both the exact
  (filtered, case-sensitive) lookup and the case-insensitive one ("did you mean model.usage?").
- Every item carries ``revision``; each write is conditional on the revision it replaces, and writes
  the domain events to the outbox in the same ``TransactWriteItems``.
- Version prices are stored as the public JSON (decimal strings), parsed back with the domain rules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.adapters import aws
from tollgate.adapters.dynamodb.codec import dt, outbox_put, query_all, ts, without_none
from tollgate.domain.catalog import (
    Aggregation,
    AggregationFunction,
    BillingInterval,
    Meter,
    MeterStatus,
    Plan,
    PlanVersion,
    PlanVersionRef,
    Product,
    ProductStatus,
    UsageReset,
    VersionStatus,
    parse_content,
)
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent


def _pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _plain(value: Any) -> Any:
    """DynamoDB gives numbers back as Decimal: integers become int again (metadata, filters)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- items ------------------------------------------------------------------------------------------


def _product_item(p: Product) -> dict[str, Any]:
    return without_none(
        {
            "pk": _pk(p.tenant_id),
            "sk": f"PRODUCT#{p.product_id}",
            "item_type": "PRODUCT",
            "tenant_id": p.tenant_id,
            "product_id": p.product_id,
            "name": p.name,
            "description": p.description,
            "status": p.status.value,
            "metadata": p.metadata,
            "created_at": ts(p.created_at),
            "updated_at": ts(p.updated_at),
            "published_at": ts(p.published_at),
            "archived_at": ts(p.archived_at),
            "revision": p.revision,
        }
    )


def _product_from(item: dict[str, Any]) -> Product:
    return Product(
        product_id=item["product_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        description=item.get("description", ""),
        status=ProductStatus(item["status"]),
        metadata=_plain(item.get("metadata") or {}),
        created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]),
        published_at=dt(item.get("published_at")),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


def _meter_gsi1pk(tenant_id: str, event_name: str) -> str:
    return f"T#{tenant_id}#METER_EVENT#{event_name.casefold()}"


def _meter_item(m: Meter) -> dict[str, Any]:
    return without_none(
        {
            "pk": _pk(m.tenant_id),
            "sk": f"METER#{m.meter_id}",
            "item_type": "METER",
            "gsi1pk": _meter_gsi1pk(m.tenant_id, m.event_name),
            "gsi1sk": f"METER#{m.meter_id}",
            "tenant_id": m.tenant_id,
            "meter_id": m.meter_id,
            "name": m.name,
            "description": m.description,
            "code": m.code,
            "event_name": m.event_name,
            "aggregation_function": m.aggregation.function.value,
            "aggregation_field": m.aggregation.field,
            "filters": m.filters,
            "usage_reset": m.usage_reset.value,
            "allow_negative": m.allow_negative,
            "status": m.status.value,
            # A string set cannot be empty: absent when no published version uses the meter.
            "published_in": {r.key for r in m.published_in} or None,
            "created_at": ts(m.created_at),
            "updated_at": ts(m.updated_at),
            "archived_at": ts(m.archived_at),
            "revision": m.revision,
        }
    )


def _meter_from(item: dict[str, Any]) -> Meter:
    return Meter(
        meter_id=item["meter_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        description=item.get("description", ""),
        code=item.get("code"),
        event_name=item["event_name"],
        aggregation=Aggregation(AggregationFunction(item["aggregation_function"]), item.get("aggregation_field")),
        filters=_plain(item.get("filters") or {}),
        usage_reset=UsageReset(item["usage_reset"]),
        allow_negative=bool(item.get("allow_negative", False)),
        status=MeterStatus(item["status"]),
        published_in=frozenset(PlanVersionRef.from_key(k) for k in item.get("published_in") or ()),
        created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


def _claim_key(tenant_id: str, event_name: str) -> dict[str, str]:
    return {"pk": _pk(tenant_id), "sk": f"METER_EVENT#{event_name}"}


def _plan_item(p: Plan) -> dict[str, Any]:
    return without_none(
        {
            "pk": _pk(p.tenant_id),
            "sk": f"PLAN#{p.plan_id}",
            "item_type": "PLAN",
            "tenant_id": p.tenant_id,
            "plan_id": p.plan_id,
            "name": p.name,
            "code": p.code,
            "description": p.description,
            "currency": p.currency,
            "billing_interval": p.billing_interval.value,
            "trial_days": p.trial_days,
            "product_id": p.product_id,
            "metadata": p.metadata,
            "current_version": p.current_version,
            "latest_version": p.latest_version,
            "created_at": ts(p.created_at),
            "updated_at": ts(p.updated_at),
            "revision": p.revision,
        }
    )


def _plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        plan_id=item["plan_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        code=item.get("code"),
        description=item.get("description", ""),
        currency=item["currency"],
        billing_interval=BillingInterval(item["billing_interval"]),
        trial_days=int(item["trial_days"]) if item.get("trial_days") is not None else None,
        product_id=item.get("product_id"),
        metadata=_plain(item.get("metadata") or {}),
        current_version=int(item["current_version"]) if item.get("current_version") is not None else None,
        latest_version=int(item["latest_version"]),
        created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]),
        revision=int(item["revision"]),
    )


def _version_sk(plan_id: str, version: int) -> str:
    return f"PLANVER#{plan_id}#{version:010d}"


def _version_item(v: PlanVersion) -> dict[str, Any]:
    return without_none(
        {
            "pk": _pk(v.tenant_id),
            "sk": _version_sk(v.plan_id, v.version),
            "item_type": "PLAN_VERSION",
            "tenant_id": v.tenant_id,
            "plan_id": v.plan_id,
            "version": v.version,
            "currency": v.currency,
            "status": v.status.value,
            "content": v.content.to_json(),
            "created_at": ts(v.created_at),
            "updated_at": ts(v.updated_at),
            "published_at": ts(v.published_at),
            "archived_at": ts(v.archived_at),
            "revision": v.revision,
        }
    )


def _version_from(item: dict[str, Any]) -> PlanVersion:
    return PlanVersion(
        plan_id=item["plan_id"],
        tenant_id=item["tenant_id"],
        version=int(item["version"]),
        currency=item["currency"],
        content=parse_content(item["content"], item["currency"]),
        status=VersionStatus(item["status"]),
        created_at=dt(item["created_at"]),
        updated_at=dt(item["updated_at"]),
        published_at=dt(item.get("published_at")),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


# -- the repository ---------------------------------------------------------------------------------


class _Cancelled(Exception):
    def __init__(self, failed: list[int]) -> None:
        super().__init__(failed)
        self.failed = failed  # indexes of the transaction items whose condition failed


class DynamoCatalogRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _table(self):
        return aws.table(self.table_name)

    # -- writes --------------------------------------------------------------------------------------
    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _put_next(
        self, item: dict[str, Any], extra_condition: str = "", values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Overwrite an item, conditional on the stored revision being the one before ``item``'s."""
        condition = "revision = :prev" + (f" AND {extra_condition}" if extra_condition else "")
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": item,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": {":prev": item["revision"] - 1, **(values or {})},
            }
        }

    def _transact(self, items: list[dict[str, Any]], events: list[DomainEvent]) -> None:
        client = self._table.meta.client
        try:
            client.transact_write_items(TransactItems=[*items, *(outbox_put(self.table_name, e) for e in events)])
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            raise _Cancelled(failed) from exc

    @staticmethod
    def _changed(what: str) -> Conflict:
        return Conflict(f"{what} was changed by another request; fetch it again and retry.", code="CONCURRENT_UPDATE")

    def _claim_conflict(self, tenant_id: str, event_name: str) -> Conflict:
        item = self._table.get_item(Key=_claim_key(tenant_id, event_name), ConsistentRead=True).get("Item") or {}
        holder = item.get("meter_id", "another meter")
        return Conflict(
            f"Event name {event_name!r} is already used by active meter {holder}. Event names are unique among "
            f"active meters: archive {holder} first or use another event name.",
            code="EVENT_NAME_TAKEN",
            meter_id=item.get("meter_id"),
        )

    # -- products ------------------------------------------------------------------------------------
    def add_product(self, product: Product, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_new(_product_item(product))], events)
        except _Cancelled:
            raise Conflict(f"Product {product.product_id} already exists.") from None

    def get_product(self, tenant_id: str, product_id: str) -> Product | None:
        item = self._table.get_item(Key={"pk": _pk(tenant_id), "sk": f"PRODUCT#{product_id}"}).get("Item")
        return _product_from(item) if item else None

    def list_products(self, tenant_id: str, *, status: ProductStatus | None = None) -> list[Product]:
        products = [_product_from(i) for i in self._query_prefix(tenant_id, "PRODUCT#")]
        return [p for p in products if status is None or p.status is status]

    def save_product(self, product: Product, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_next(_product_item(product))], events)
        except _Cancelled:
            raise self._changed(f"Product {product.product_id}") from None

    # -- meters --------------------------------------------------------------------------------------
    def _claim_put(self, meter: Meter) -> dict[str, Any]:
        item = {
            **_claim_key(meter.tenant_id, meter.event_name),
            "item_type": "METER_EVENT_CLAIM",
            "tenant_id": meter.tenant_id,
            "event_name": meter.event_name,
            "meter_id": meter.meter_id,
        }
        return self._put_new(item)

    def _claim_delete(self, meter: Meter, event_name: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table_name,
                "Key": _claim_key(meter.tenant_id, event_name),
                "ConditionExpression": "meter_id = :id",
                "ExpressionAttributeValues": {":id": meter.meter_id},
            }
        }

    def add_meter(self, meter: Meter, events: list[DomainEvent]) -> None:
        items = [self._put_new(_meter_item(meter))]
        if meter.status is MeterStatus.ACTIVE:
            items.append(self._claim_put(meter))
        try:
            self._transact(items, events)
        except _Cancelled as cancelled:
            if 1 in cancelled.failed:
                raise self._claim_conflict(meter.tenant_id, meter.event_name) from None
            raise Conflict(f"Meter {meter.meter_id} already exists.") from None

    def get_meter(self, tenant_id: str, meter_id: str) -> Meter | None:
        item = self._table.get_item(Key={"pk": _pk(tenant_id), "sk": f"METER#{meter_id}"}).get("Item")
        return _meter_from(item) if item else None

    def list_meters(self, tenant_id: str, *, status: MeterStatus | None = None) -> list[Meter]:
        meters = [_meter_from(i) for i in self._query_prefix(tenant_id, "METER#")]
        return [m for m in meters if status is None or m.status is status]

    def save_meter(self, meter: Meter, previous: Meter, events: list[DomainEvent]) -> None:
        items = [self._put_next(_meter_item(meter))]
        was = previous.event_name if previous.status is MeterStatus.ACTIVE else None
        now = meter.event_name if meter.status is MeterStatus.ACTIVE else None
        claim_index = None
        if was != now:
            if was is not None:
                items.append(self._claim_delete(meter, was))
            if now is not None:
                claim_index = len(items)
                items.append(self._claim_put(meter))
        try:
            self._transact(items, events)
        except _Cancelled as cancelled:
            if claim_index is not None and claim_index in cancelled.failed and now is not None:
                raise self._claim_conflict(meter.tenant_id, now) from None
            raise self._changed(f"Meter {meter.meter_id}") from None

    def _meters_by_folded_name(self, tenant_id: str, event_name: str) -> list[Meter]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(
            IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(_meter_gsi1pk(tenant_id, event_name))
        )
        return [_meter_from(i) for i in items]

    def find_meter_by_event_name(self, tenant_id: str, event_name: str) -> Meter | None:
        found = [m for m in self._meters_by_folded_name(tenant_id, event_name) if m.event_name == event_name]
        active = [m for m in found if m.status is MeterStatus.ACTIVE]
        if active:
            return active[0]
        return max(found, key=lambda m: (m.archived_at or m.updated_at, m.meter_id), default=None)

    def find_meters_by_event_name_ignoring_case(self, tenant_id: str, event_name: str) -> list[Meter]:
        return self._meters_by_folded_name(tenant_id, event_name)

    # -- plans ---------------------------------------------------------------------------------------
    def add_plan(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_new(_plan_item(plan)), self._put_new(_version_item(version))], events)
        except _Cancelled:
            raise Conflict(f"Plan {plan.plan_id} already exists.") from None

    def get_plan(self, tenant_id: str, plan_id: str) -> Plan | None:
        item = self._table.get_item(Key={"pk": _pk(tenant_id), "sk": f"PLAN#{plan_id}"}).get("Item")
        return _plan_from(item) if item else None

    def list_plans(self, tenant_id: str) -> list[Plan]:
        return [_plan_from(i) for i in self._query_prefix(tenant_id, "PLAN#")]

    def save_plan(self, plan: Plan, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_next(_plan_item(plan))], events)
        except _Cancelled:
            raise self._changed(f"Plan {plan.plan_id}") from None

    def get_version(self, tenant_id: str, plan_id: str, version: int) -> PlanVersion | None:
        item = self._table.get_item(Key={"pk": _pk(tenant_id), "sk": _version_sk(plan_id, version)}).get("Item")
        return _version_from(item) if item else None

    def list_versions(self, tenant_id: str, plan_id: str) -> list[PlanVersion]:
        return [_version_from(i) for i in self._query_prefix(tenant_id, f"PLANVER#{plan_id}#")]

    def add_version(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_next(_plan_item(plan)), self._put_new(_version_item(version))], events)
        except _Cancelled:
            raise self._changed(f"Plan {plan.plan_id}") from None

    def save_version(self, version: PlanVersion, events: list[DomainEvent]) -> None:
        try:
            self._transact([self._put_next(_version_item(version))], events)
        except _Cancelled:
            raise self._changed(version.subject) from None

    def _save_transition(
        self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent], *, meters_active: bool
    ) -> None:
        items = [self._put_next(_plan_item(plan)), self._put_next(_version_item(version))]
        for meter in meters:
            if meters_active:
                items.append(
                    self._put_next(_meter_item(meter), "#status = :active", {":active": MeterStatus.ACTIVE.value})
                )
                items[-1]["Put"]["ExpressionAttributeNames"] = {"#status": "status"}
            else:
                items.append(self._put_next(_meter_item(meter)))
        try:
            self._transact(items, events)
        except _Cancelled as cancelled:
            meter_failures = [meters[i - 2].meter_id for i in cancelled.failed if 2 <= i < 2 + len(meters)]
            if meter_failures:
                raise self._changed(f"Meter {meter_failures[0]}") from None
            raise self._changed(version.subject) from None

    def publish_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        self._save_transition(plan, version, meters, events, meters_active=True)

    def archive_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        self._save_transition(plan, version, meters, events, meters_active=False)

    # -- queries -------------------------------------------------------------------------------------
    def _query_prefix(self, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        return self._query_all(KeyConditionExpression=Key("pk").eq(_pk(tenant_id)) & Key("sk").begins_with(prefix))

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        return query_all(self._table, **kwargs)
