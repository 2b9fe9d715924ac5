"""What ``GET /v1/ingest/diagnose`` says about gateway metering (seed 002 "Usage dashboard shows zero
despite active API traffic"): calls to ``POST /v1/gateway/meter`` that metered nothing, by reason."""

from __future__ import annotations

from datetime import datetime

from tollgate.domain.clock import to_rfc3339
from tollgate.ports.gateway import GatewayStore
from tollgate.usecases.diagnose_causes import Cause

_CAUSES = {
    "NOT_COVERED": (
        "GATEWAY_ROUTE_NOT_COVERED",
        "Gateway traffic is not metered: no policy covers the route",
        "A route no monetization policy covers is neither checked nor metered. Add the route to a policy "
        "(POST /v1/gateway/policies or PUT /v1/gateway/policies/{policy_id}).",
    ),
    "STATUS_NOT_METERED": (
        "GATEWAY_STATUS_NOT_METERED",
        "Gateway traffic is not metered: the policy's meter_on_status_codes excludes the status",
        'Widen the policy\'s meter_on_status_codes (e.g. "200-299" to meter 201 Created as well).',
    ),
    "KEY_INVALID": (
        "GATEWAY_KEY_INVALID",
        "Gateway traffic is not metered: the customer key is unknown or revoked",
        "The gateway meters with the key the client sent: check it is the subscription's active key.",
    ),
}


def gateway_causes(store: GatewayStore | None, tenant_id: str, since: datetime) -> list[Cause]:
    if store is None:
        return []
    causes = []
    for record in store.unmetered(tenant_id):
        spec = _CAUSES.get(record.reason)
        if spec is None or record.last_at < since:
            continue
        code, title, fix = spec
        detail = (
            f"{record.count} call(s) to POST /v1/gateway/meter metered nothing ({record.reason}); the last one: "
            f"{record.last_route} answered {record.last_status} at {to_rfc3339(record.last_at)}."
        )
        example = {"route": record.last_route, "status_code": record.last_status, "at": to_rfc3339(record.last_at)}
        causes.append(Cause(code, title, detail, fix, record.count, [example]))
    return causes
