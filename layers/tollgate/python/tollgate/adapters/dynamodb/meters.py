"""Meters in the main table, and the claims that keep an event name unique among active meters.

| item             | pk         | sk                       | gsi1pk                               | gsi1sk     |
|------------------|------------|--------------------------|--------------------------------------|------------|
| meter            | T#<tenant> | METER#<meter_id>         | T#<tenant>#METER_EVENT#<folded name> | METER#<id> |
| event-name claim | T#<tenant> | METER_EVENT#<event_name> |                                      |            |

- The claim exists while a meter is ACTIVE: written with ``attribute_not_exists`` in the same
  transaction as the meter, it makes an event name unique among a tenant's active meters.
- gsi1 groups a tenant's meters by case-folded event name: one query answers both the exact
  (filtered, case-sensitive) lookup and the case-insensitive one ("did you mean model.usage?").
"""

from __future__ import annotations

from dataclasses import replace
from functools import reduce
from typing import Any

from tollgate.adapters.dynamodb.catalog_table import CatalogTable, changed
from tollgate.adapters.dynamodb.codec import dt, plain_json, required_dt, ts, without_none
from tollgate.adapters.dynamodb.keys import (
    METER_PREFIX,
    meter_event_claim_key,
    meter_event_gsi1pk,
    meter_key,
    tenant_pk,
)
from tollgate.adapters.dynamodb.paging import PageQuery, query_page
from tollgate.domain.catalog import (
    Aggregation,
    AggregationFunction,
    Meter,
    MeterStatus,
    PlanVersionRef,
    UsageReset,
)
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


def meter_item(m: Meter) -> dict[str, Any]:
    return without_none(
        {
            **meter_key(m.tenant_id, m.meter_id),
            "item_type": "METER",
            "gsi1pk": meter_event_gsi1pk(m.tenant_id, m.event_name),
            "gsi1sk": f"{METER_PREFIX}{m.meter_id}",
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


def meter_from(item: dict[str, Any]) -> Meter:
    return Meter(
        meter_id=item["meter_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        description=item.get("description", ""),
        code=item.get("code"),
        event_name=item["event_name"],
        aggregation=Aggregation(AggregationFunction(item["aggregation_function"]), item.get("aggregation_field")),
        filters=plain_json(item.get("filters") or {}),
        usage_reset=UsageReset(item["usage_reset"]),
        allow_negative=bool(item.get("allow_negative", False)),
        status=MeterStatus(item["status"]),
        published_in=frozenset(PlanVersionRef.from_key(k) for k in item.get("published_in") or ()),
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


class MeterStore(CatalogTable):
    def _claim_put(self, meter: Meter) -> dict[str, Any]:
        item = {
            **meter_event_claim_key(meter.tenant_id, meter.event_name),
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
                "Key": meter_event_claim_key(meter.tenant_id, event_name),
                "ConditionExpression": "meter_id = :id",
                "ExpressionAttributeValues": {":id": meter.meter_id},
            }
        }

    def _claim_conflict(self, tenant_id: str, event_name: str) -> Conflict:
        key = meter_event_claim_key(tenant_id, event_name)
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        holder = item.get("meter_id", "another meter")
        return Conflict(
            f"Event name {event_name!r} is already used by active meter {holder}. Event names are unique among "
            f"active meters: archive {holder} first or use another event name.",
            code="EVENT_NAME_TAKEN",
            meter_id=item.get("meter_id"),
        )

    def add_meter(self, meter: Meter, events: list[DomainEvent]) -> None:
        items = [self._put_new(meter_item(meter))]
        if meter.status is MeterStatus.ACTIVE:
            items.append(self._claim_put(meter))

        def refused(failed: list[int]) -> Exception:
            if 1 in failed:
                return self._claim_conflict(meter.tenant_id, meter.event_name)
            return Conflict(f"Meter {meter.meter_id} already exists.")

        self._transact(items, events, refused)

    def get_meter(self, tenant_id: str, meter_id: str) -> Meter | None:
        item = self._table.get_item(Key=meter_key(tenant_id, meter_id)).get("Item")
        return meter_from(item) if item else None

    def list_meters(self, tenant_id: str, *, status: MeterStatus | None = None) -> list[Meter]:
        meters = [meter_from(i) for i in self._query_prefix(tenant_id, METER_PREFIX)]
        return [m for m in meters if status is None or m.status is status]

    def page_meters(
        self,
        tenant_id: str,
        *,
        status: MeterStatus | None = None,
        event_name: str | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[Meter]:
        """The tenant's meters (by id), or those of exactly ``event_name`` (gsi1 holds its case-folded
        group), optionally in one status."""
        from boto3.dynamodb.conditions import Attr

        conditions = [Attr("status").eq(status.value)] if status else []
        if event_name is None:
            query = PageQuery(partition=("pk", tenant_pk(tenant_id)), prefix=METER_PREFIX)
        else:
            conditions.append(Attr("event_name").eq(event_name))
            query = PageQuery(partition=("gsi1pk", meter_event_gsi1pk(tenant_id, event_name)), index="gsi1")
        only = reduce(lambda a, b: a & b, conditions) if conditions else None
        query = replace(query, filter=only)
        return query_page(self._table, query, limit=limit, cursor=cursor).map(meter_from)

    def save_meter(self, meter: Meter, previous: Meter, events: list[DomainEvent]) -> None:
        items = [self._put_next(meter_item(meter))]
        was = previous.event_name if previous.status is MeterStatus.ACTIVE else None
        now = meter.event_name if meter.status is MeterStatus.ACTIVE else None
        claim_index = None
        if was != now:
            if was is not None:
                items.append(self._claim_delete(meter, was))
            if now is not None:
                claim_index = len(items)
                items.append(self._claim_put(meter))

        def refused(failed: list[int]) -> Exception:
            if claim_index is not None and claim_index in failed and now is not None:
                return self._claim_conflict(meter.tenant_id, now)
            return changed(f"Meter {meter.meter_id}")

        self._transact(items, events, refused)

    def _meters_by_folded_name(self, tenant_id: str, event_name: str) -> list[Meter]:
        from boto3.dynamodb.conditions import Key

        items = self._query_all(
            IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(meter_event_gsi1pk(tenant_id, event_name))
        )
        return [meter_from(i) for i in items]

    def find_meter_by_event_name(self, tenant_id: str, event_name: str) -> Meter | None:
        found = [m for m in self._meters_by_folded_name(tenant_id, event_name) if m.event_name == event_name]
        active = [m for m in found if m.status is MeterStatus.ACTIVE]
        if active:
            return active[0]
        return max(found, key=lambda m: (m.archived_at or m.updated_at, m.meter_id), default=None)

    def find_meters_by_event_name_ignoring_case(self, tenant_id: str, event_name: str) -> list[Meter]:
        return self._meters_by_folded_name(tenant_id, event_name)
