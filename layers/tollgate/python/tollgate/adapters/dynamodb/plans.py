"""Plans and plan versions in the main table.

| item         | pk         | sk                               |
|--------------|------------|----------------------------------|
| plan         | T#<tenant> | PLAN#<plan_id>                   |
| plan version | T#<tenant> | PLANVER#<plan_id>#<version:010d> |

Versions are zero-padded so a ``begins_with`` query returns them in order. Version prices are stored
as the public JSON (decimal strings), parsed back with the domain rules. Publishing and archiving a
version write the plan, the version and the meters it locks or releases in one transaction.
"""

from __future__ import annotations

from typing import Any

from tollgate.adapters.dynamodb.catalog_table import CatalogTable, changed
from tollgate.adapters.dynamodb.codec import dt, plain_json, required_dt, ts, without_none
from tollgate.adapters.dynamodb.keys import PLAN_PREFIX, plan_key, plan_version_key, plan_versions_prefix
from tollgate.adapters.dynamodb.meters import meter_item
from tollgate.domain.catalog import (
    BillingInterval,
    Meter,
    MeterStatus,
    Plan,
    PlanVersion,
    VersionStatus,
    parse_content,
)
from tollgate.domain.errors import Conflict
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page


def plan_item(p: Plan) -> dict[str, Any]:
    return without_none(
        {
            **plan_key(p.tenant_id, p.plan_id),
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


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        plan_id=item["plan_id"],
        tenant_id=item["tenant_id"],
        name=item["name"],
        code=item.get("code"),
        description=item.get("description", ""),
        currency=item["currency"],
        billing_interval=BillingInterval(item["billing_interval"]),
        trial_days=_optional_int(item.get("trial_days")),
        product_id=item.get("product_id"),
        metadata=plain_json(item.get("metadata") or {}),
        current_version=_optional_int(item.get("current_version")),
        latest_version=int(item["latest_version"]),
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        revision=int(item["revision"]),
    )


def version_item(v: PlanVersion) -> dict[str, Any]:
    return without_none(
        {
            **plan_version_key(v.tenant_id, v.plan_id, v.version),
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


def version_from(item: dict[str, Any]) -> PlanVersion:
    return PlanVersion(
        plan_id=item["plan_id"],
        tenant_id=item["tenant_id"],
        version=int(item["version"]),
        currency=item["currency"],
        content=parse_content(item["content"], item["currency"]),
        status=VersionStatus(item["status"]),
        created_at=required_dt(item["created_at"]),
        updated_at=required_dt(item["updated_at"]),
        published_at=dt(item.get("published_at")),
        archived_at=dt(item.get("archived_at")),
        revision=int(item["revision"]),
    )


class PlanStore(CatalogTable):
    def add_plan(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        exists = Conflict(f"Plan {plan.plan_id} already exists.")
        items = [self._put_new(plan_item(plan)), self._put_new(version_item(version))]
        self._transact(items, events, lambda _failed: exists)

    def get_plan(self, tenant_id: str, plan_id: str) -> Plan | None:
        item = self._table.get_item(Key=plan_key(tenant_id, plan_id)).get("Item")
        return plan_from(item) if item else None

    def list_plans(self, tenant_id: str) -> list[Plan]:
        return [plan_from(i) for i in self._query_prefix(tenant_id, PLAN_PREFIX)]

    def page_plans(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Plan]:
        return self._page_prefix(tenant_id, PLAN_PREFIX, limit=limit, cursor=cursor).map(plan_from)

    def page_versions(
        self, tenant_id: str, plan_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[PlanVersion]:
        prefix = plan_versions_prefix(plan_id)
        return self._page_prefix(tenant_id, prefix, limit=limit, cursor=cursor).map(version_from)

    def save_plan(self, plan: Plan, events: list[DomainEvent]) -> None:
        lost = changed(f"Plan {plan.plan_id}")
        self._transact([self._put_next(plan_item(plan))], events, lambda _failed: lost)

    def get_version(self, tenant_id: str, plan_id: str, version: int) -> PlanVersion | None:
        item = self._table.get_item(Key=plan_version_key(tenant_id, plan_id, version)).get("Item")
        return version_from(item) if item else None

    def list_versions(self, tenant_id: str, plan_id: str) -> list[PlanVersion]:
        return [version_from(i) for i in self._query_prefix(tenant_id, plan_versions_prefix(plan_id))]

    def add_version(self, plan: Plan, version: PlanVersion, events: list[DomainEvent]) -> None:
        lost = changed(f"Plan {plan.plan_id}")
        items = [self._put_next(plan_item(plan)), self._put_new(version_item(version))]
        self._transact(items, events, lambda _failed: lost)

    def save_version(self, version: PlanVersion, events: list[DomainEvent]) -> None:
        lost = changed(version.subject)
        self._transact([self._put_next(version_item(version))], events, lambda _failed: lost)

    def _save_transition(
        self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent], *, meters_active: bool
    ) -> None:
        items = [self._put_next(plan_item(plan)), self._put_next(version_item(version))]
        for meter in meters:
            if meters_active:
                put = self._put_next(meter_item(meter), "#status = :active", {":active": MeterStatus.ACTIVE.value})
                put["Put"]["ExpressionAttributeNames"] = {"#status": "status"}
                items.append(put)
            else:
                items.append(self._put_next(meter_item(meter)))

        def refused(failed: list[int]) -> Exception:
            meter_failures = [meters[i - 2].meter_id for i in failed if 2 <= i < 2 + len(meters)]
            if meter_failures:
                return changed(f"Meter {meter_failures[0]}")
            return changed(version.subject)

        self._transact(items, events, refused)

    def publish_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        self._save_transition(plan, version, meters, events, meters_active=True)

    def archive_version(self, plan: Plan, version: PlanVersion, meters: list[Meter], events: list[DomainEvent]) -> None:
        self._save_transition(plan, version, meters, events, meters_active=False)
