"""``POST /v1/gateway/meter``: meter a request after its response.

The policy's status filter decides (default ``200-299``: a 500 is not metered), then its increments
(a response value replaces the policy's: Zuplo's set rule), ingested through the ingestion use case
with ``event_id`` = the gateway's request id (``<request id>#<meter>`` when a request meters several
meters): a redelivered log line counts once, a client's retry is a new request id and counts. A call
that meters nothing is recorded with its reason, so ``GET /v1/ingest/diagnose`` can name it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.gateway.metering import MeterReason, increments, judge
from tollgate.domain.gateway.policy import first_covering, parse_increments
from tollgate.domain.gateway.snapshot import KeyState
from tollgate.domain.usage.events import Code, EventStatus
from tollgate.usecases.gateway.check import _snapshot
from tollgate.usecases.gateway.policies import tenant_policies
from tollgate.usecases.gateway.repos import GatewayRepos

MAX_BATCH = 100


def _result(reason: MeterReason, **extra: Any) -> dict[str, Any]:
    return {"metered": reason is MeterReason.METERED, "reason": reason.value, **extra}


def _note(repos: GatewayRepos, tenant_id: str, reason: MeterReason, body: Mapping[str, Any], now: datetime) -> None:
    with contextlib.suppress(Exception):  # diagnostics never fail a meter call
        route = f"{body.get('method', '')} {body.get('path', '')}"
        repos.store.record_unmetered(tenant_id, reason.value, route, int(body.get("status_code") or 0), now)


def meter_one(repos: GatewayRepos, tenant_id: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
    now = repos.clock()
    explicit = parse_increments(body["meters"], "meters") if body.get("meters") else None
    response = parse_increments(body["response_meters"], "response_meters") if body.get("response_meters") else None
    policy = first_covering(tenant_policies(repos, tenant_id), body["method"], body["path"])
    reason = judge(policy, explicit, int(body["status_code"]))
    if reason is not None:
        _note(repos, tenant_id, reason, body, now)
        return _result(reason)
    snapshot = _snapshot(repos, tenant_id, (body.get("api_key") or "").strip())
    if snapshot is None or snapshot.key_state is not KeyState.ACTIVE or snapshot.customer_id is None:
        _note(repos, tenant_id, MeterReason.KEY_INVALID, body, now)
        return _result(MeterReason.KEY_INVALID)
    amounts = increments(policy, explicit, response)
    if not amounts:
        _note(repos, tenant_id, MeterReason.NOTHING_TO_METER, body, now)
        return _result(MeterReason.NOTHING_TO_METER)
    return _ingest(repos, snapshot, body, amounts, request_id, now)


def _ingest(repos, snapshot, body: Mapping[str, Any], amounts: dict[str, Decimal], request_id: str, now: datetime):
    from tollgate.usecases.ingest import ingest

    rid = str(body["request_id"])
    caller = Caller(snapshot.tenant_id, KeyKind.CUSTOMER, snapshot.key_id, customer_id=snapshot.customer_id)
    events = [
        {
            "event_id": rid if len(amounts) == 1 else f"{rid}#{name}",
            "event_name": name,
            "timestamp": body.get("timestamp") or to_rfc3339(now),
            "quantity": amount,
            "properties": {
                "method": str(body["method"])[:16],
                "path": str(body["path"])[:300],
                "status_code": int(body["status_code"]),
            },
        }
        for name, amount in amounts.items()
    ]
    result = ingest(repos.ingest(), caller, events, single=False, received_at=now, request_id=request_id)
    statuses = [o["status"] for o in result.outcomes]
    rejected = [r for r in result.rejected if r.code is not Code.IDEMPOTENCY_CONFLICT]
    if rejected:
        return {"metered": False, "reason": "REJECTED", "detail": rejected[0].detail, "code": rejected[0].code.value}
    stored = [s for s in statuses if s in (EventStatus.ACCEPTED.value, EventStatus.LATE.value)]
    if not stored:
        return _result(MeterReason.DUPLICATE)
    return _result(MeterReason.METERED, meters={k: _plain(v) for k, v in amounts.items()})


def _plain(value: Decimal) -> str:
    from tollgate.domain.money import plain

    return plain(value)


def meter(repos: GatewayRepos, tenant_id: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
    """One request, or ``{"requests": [...]}`` (at most ``MAX_BATCH``): ``{"results": [...]}``."""
    if "requests" in body:
        return {
            "results": [meter_one(repos, tenant_id, r, f"{request_id}-{i}") for i, r in enumerate(body["requests"])]
        }
    return meter_one(repos, tenant_id, body, request_id)
