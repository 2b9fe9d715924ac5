"""A product's link to a gateway integration and its state (issue 19).

State after each operation (``GatewayState``)::

    PUT (link, or link to another integration/target)  -> NOT_SYNCED (diff cleared)
    sync     gateway matches after apply + read back     -> IN_SYNC
             still differs (unmanaged config)             -> SYNC_FAILED   (GATEWAY_UNMANAGED_CONFIG, names the paths)
             provider failure                             -> SYNC_FAILED   (the provider's error_code, detail, fix)
    check    no diff                                      -> IN_SYNC
             diff, from IN_SYNC or STALE                  -> STALE         (``product.gateway_stale`` on entering it)
             diff, from NOT_SYNCED/SYNC_FAILED/RESTORE_FAILED -> unchanged (diff refreshed: nothing was pushed yet,
                                                                 or the last push is still failing)
             provider failure                             -> unchanged     (error_code, detail, fix set)
    restore  like sync, but the failing state is RESTORE_FAILED (what still differs is listed)

``diff`` is the JSON Patch of what Tollgate would push (``domain.integrations.drift``), at most
``MAX_DIFF_OPS`` operations (``diff_truncated`` says when there were more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from tollgate.domain.catalog.common import text
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.errors import InvalidInput
from tollgate.domain.event_types import ProductGatewayStaleData
from tollgate.domain.events import DomainEvent
from tollgate.domain.integrations.drift import MAX_DIFF_OPS, describe
from tollgate.domain.integrations.integration import capped


class GatewayState(StrEnum):
    NOT_SYNCED = "NOT_SYNCED"
    IN_SYNC = "IN_SYNC"
    STALE = "STALE"
    SYNC_FAILED = "SYNC_FAILED"
    RESTORE_FAILED = "RESTORE_FAILED"


class Operation(StrEnum):
    SYNC = "sync"
    CHECK = "check"
    RESTORE = "restore"


# The target each integration type needs: where on the gateway the product lives.
TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "aws_api_gateway": ("rest_api_id", "stage"),
    "kong": ("service",),
    "azure_apim": ("api_id",),
    "apigee": ("proxy",),
}
UNMANAGED_CONFIG = "GATEWAY_UNMANAGED_CONFIG"
_FAILED = {Operation.SYNC: GatewayState.SYNC_FAILED, Operation.RESTORE: GatewayState.RESTORE_FAILED}
_DRIFT_SURFACES = frozenset({GatewayState.IN_SYNC, GatewayState.STALE})


def parse_target(integration_type: str, target: Mapping[str, Any]) -> dict[str, str]:
    """The link's target for an integration of ``integration_type`` (each field 1 to 255 characters)."""
    fields = TARGET_FIELDS.get(integration_type)
    if fields is None:
        raise InvalidInput(f"integrations of type {integration_type!r} cannot be linked", field="integration_id")
    unknown = set(target) - set(fields)
    if unknown:
        raise InvalidInput(
            f"unknown field target.{min(unknown)} ({integration_type} targets take {', '.join(fields)})",
            field=f"target.{min(unknown)}",
        )
    return {name: text(target.get(name), f"target.{name}") for name in fields}


@dataclass(frozen=True)
class GatewayLink:
    tenant_id: str
    product_id: str
    integration_id: str
    target: dict[str, str]
    created_at: datetime
    updated_at: datetime
    state: GatewayState = GatewayState.NOT_SYNCED
    diff: tuple[dict[str, Any], ...] = ()
    diff_truncated: bool = False
    last_synced_at: datetime | None = None
    last_checked_at: datetime | None = None
    error_code: str | None = None
    detail: str | None = None
    fix: str | None = None
    revision: int = 1

    def relinked(self, integration_id: str, target: dict[str, str], at: datetime) -> GatewayLink:
        """The same link (PUT again): unchanged when nothing moved, else NOT_SYNCED with a cleared diff."""
        if integration_id == self.integration_id and target == self.target:
            return self
        return replace(
            self,
            integration_id=integration_id,
            target=target,
            updated_at=at,
            state=GatewayState.NOT_SYNCED,
            diff=(),
            diff_truncated=False,
            error_code=None,
            detail=None,
            fix=None,
        )

    def _with_diff(self, ops: list[dict[str, Any]], at: datetime, **changes: Any) -> GatewayLink:
        return replace(
            self,
            diff=tuple(ops[:MAX_DIFF_OPS]),
            diff_truncated=len(ops) > MAX_DIFF_OPS,
            last_checked_at=at,
            updated_at=at,
            **changes,
        )

    def pushed(self, operation: Operation, remaining: list[dict[str, Any]], at: datetime) -> GatewayLink:
        """After a sync or restore applied the desired state and read it back (``remaining``: what still differs)."""
        if not remaining:
            return self._with_diff(
                [], at, state=GatewayState.IN_SYNC, last_synced_at=at, error_code=None, detail=None, fix=None
            )
        return self._with_diff(
            remaining,
            at,
            state=_FAILED[operation],
            last_synced_at=at,
            error_code=UNMANAGED_CONFIG,
            detail=capped(f"The {operation.value} was applied, but the gateway still differs: {describe(remaining)}."),
            fix=(
                "The gateway holds configuration Tollgate does not manage (extra stages, plugins or routes): "
                "align it by hand, then "
                f"POST /v1/products/{self.product_id}/gateway/restore."
            ),
        )

    def checked(self, ops: list[dict[str, Any]], at: datetime) -> tuple[GatewayLink, list[DomainEvent]]:
        """After a drift check found ``ops``; a ``product.gateway_stale`` event when the link becomes STALE."""
        if not ops:
            link = self._with_diff([], at, state=GatewayState.IN_SYNC, error_code=None, detail=None, fix=None)
            return link, []
        if self.state not in _DRIFT_SURFACES:
            return self._with_diff(ops, at), []
        link = self._with_diff(
            ops,
            at,
            state=GatewayState.STALE,
            error_code=None,
            detail=capped(f"The gateway's configuration drifted from Tollgate's: {describe(ops)}."),
            fix=(
                f"Review the diff (what Tollgate would push), then POST /v1/products/{self.product_id}/gateway/restore."
            ),
        )
        if self.state is GatewayState.STALE:
            return link, []
        data: ProductGatewayStaleData = {
            "product_id": self.product_id,
            "integration_id": self.integration_id,
            "diff": list(link.diff),
            "checked_at": to_rfc3339(at),
        }
        event = DomainEvent("product.gateway_stale", self.tenant_id, at, dict(data))
        return link, [event.with_id(self.product_id, to_rfc3339(at))]

    def failed(self, operation: Operation, error_code: str, detail: str, fix: str, at: datetime) -> GatewayLink:
        """A provider call failed: a sync/restore is SYNC_FAILED/RESTORE_FAILED; a check keeps the state."""
        state = _FAILED.get(operation, self.state)
        return replace(
            self, state=state, error_code=error_code, detail=capped(detail), fix=fix, last_checked_at=at, updated_at=at
        )


def new_link(tenant_id: str, product_id: str, integration_id: str, target: dict[str, str], at: datetime) -> GatewayLink:
    return GatewayLink(
        tenant_id=tenant_id,
        product_id=product_id,
        integration_id=integration_id,
        target=target,
        created_at=at,
        updated_at=at,
    )
