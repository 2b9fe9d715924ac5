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
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tollgate.domain.access import Caller, KeyKind
from tollgate.domain.clock import to_rfc3339
from tollgate.domain.gateway.metering import MeterReason, increments, judge
from tollgate.domain.gateway.policy import first_covering, parse_increments
from tollgate.domain.gateway.snapshot import AccessSnapshot, KeyState
from tollgate.domain.money import plain
from tollgate.domain.usage.events import MAX_BATCH as INGEST_MAX
from tollgate.domain.usage.events import Code, EventStatus
from tollgate.usecases.gateway.check import counter_period, snapshot_of
from tollgate.usecases.gateway.policies import tenant_policies
from tollgate.usecases.gateway.repos import GatewayRepos

MAX_BATCH = 100


def _result(reason: MeterReason, **extra: Any) -> dict[str, Any]:
    return {"metered": reason is MeterReason.METERED, "reason": reason.value, **extra}


def _note(repos: GatewayRepos, tenant_id: str, reason: MeterReason, body: Mapping[str, Any], now: datetime) -> None:
    with contextlib.suppress(Exception):  # diagnostics never fail a meter call
        route = f"{body.get('method', '')} {body.get('path', '')}"
        repos.store.record_unmetered(tenant_id, reason.value, route, int(body.get("status_code") or 0), now)


@dataclass
class _Pending:
    """A request that meters something: its usage events, ingested with the other requests of its key."""

    index: int
    snapshot: AccessSnapshot
    amounts: dict[str, Decimal]
    events: list[dict[str, Any]]


def _judge(repos: GatewayRepos, tenant_id: str, index: int, body: Mapping[str, Any], now: datetime):
    """The request's answer when it meters nothing, else what to ingest."""
    explicit = parse_increments(body["meters"], "meters") if body.get("meters") else None
    response = parse_increments(body["response_meters"], "response_meters") if body.get("response_meters") else None
    policy = first_covering(tenant_policies(repos, tenant_id), body["method"], body["path"])
    reason = judge(policy, explicit, int(body["status_code"]))
    if reason is MeterReason.STATUS_NOT_METERED and policy is not None and policy.strict:
        _give_back(repos, tenant_id, explicit or policy.meters, body)
    snapshot = None
    if reason is None:
        snapshot = _metered_for(repos, tenant_id, body, now)
        if snapshot is None or snapshot.key_state is not KeyState.ACTIVE or snapshot.customer_id is None:
            reason = MeterReason.KEY_INVALID
    amounts = increments(policy, explicit, response) if reason is None else {}
    if reason is None and not amounts:
        reason = MeterReason.NOTHING_TO_METER
    if reason is not None or snapshot is None:
        _note(repos, tenant_id, reason or MeterReason.KEY_INVALID, body, now)
        return _result(reason or MeterReason.KEY_INVALID)
    return _Pending(index, snapshot, amounts, _events(body, amounts, now))


def _metered_for(repos: GatewayRepos, tenant_id: str, body: Mapping[str, Any], now: datetime):
    """Whose usage: the customer key's snapshot, or (access-log metering, which never sees the key) the
    subscription named by ``subscription_id`` in this tenant."""
    api_key = (body.get("api_key") or "").strip()
    if api_key or not body.get("subscription_id"):
        return snapshot_of(repos, tenant_id, api_key)
    sub = repos.subscriptions.get(tenant_id, str(body["subscription_id"]))
    if sub is None:
        return None
    return AccessSnapshot(
        tenant_id=tenant_id,
        key_id=sub.subscription_id,
        key_state=KeyState.ACTIVE,
        built_at=now,
        customer_id=sub.customer_id,
        subscription_id=sub.subscription_id,
    )


def _give_back(repos: GatewayRepos, tenant_id: str, taken: Mapping[str, Decimal], body: Mapping[str, Any]) -> None:
    """Strict mode took the increment at the check; a response whose status is not metered returns it
    (once per request id: a redelivered log line returns nothing more)."""
    s = snapshot_of(repos, tenant_id, (body.get("api_key") or "").strip())
    if s is None or s.subscription_id is None:
        return
    for name, inc in taken.items():
        m = s.meters.get(name)
        if m is not None and m.hard and m.limit is not None:
            period = counter_period(s, name)
            repos.store.give_back_once(tenant_id, s.subscription_id, name, period, inc, str(body["request_id"]))


def _events(body: Mapping[str, Any], amounts: dict[str, Decimal], now: datetime) -> list[dict[str, Any]]:
    rid = str(body["request_id"])
    return [
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


def _ingest(repos: GatewayRepos, group: list[_Pending], request_id: str, now: datetime) -> dict[int, dict]:
    """One ingestion call for requests of one key: each request's answer by its index."""
    from tollgate.usecases.ingest import ingest

    snapshot = group[0].snapshot
    caller = Caller(snapshot.tenant_id, KeyKind.CUSTOMER, snapshot.key_id, customer_id=snapshot.customer_id)
    owner = [p for p in group for _ in p.events]
    events = [e for p in group for e in p.events]
    result = ingest(repos.ingest(), caller, events, single=False, received_at=now, request_id=request_id)
    stored: dict[int, bool] = {}
    rejected: dict[int, Any] = {}
    for outcome in result.outcomes:
        p = owner[outcome["index"]]
        stored[p.index] = stored.get(p.index, False) or outcome["status"] in (EventStatus.ACCEPTED, EventStatus.LATE)
    for r in result.rejected:
        if r.code is not Code.IDEMPOTENCY_CONFLICT:  # the same request id with another payload: metered before
            rejected.setdefault(owner[r.index].index, r)
    answers = {}
    for p in group:
        if p.index in rejected:
            r = rejected[p.index]
            answers[p.index] = {"metered": False, "reason": "REJECTED", "detail": r.detail, "code": r.code.value}
        elif stored.get(p.index):
            answers[p.index] = _result(MeterReason.METERED, meters={k: plain(v) for k, v in p.amounts.items()})
        else:
            answers[p.index] = _result(MeterReason.DUPLICATE)
    return answers


def meter(repos: GatewayRepos, tenant_id: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
    """One request, or ``{"requests": [...]}`` (at most ``MAX_BATCH``): ``{"results": [...]}``. The
    requests of one key are ingested together (one ingestion call per key and 1000 events)."""
    requests = list(body["requests"]) if "requests" in body else [body]
    now = repos.clock()
    answers: dict[int, dict[str, Any]] = {}
    groups: dict[str, list[_Pending]] = {}
    for index, item in enumerate(requests):
        judged = _judge(repos, tenant_id, index, item, now)
        if isinstance(judged, _Pending):
            groups.setdefault(judged.snapshot.key_id, []).append(judged)
        else:
            answers[index] = judged
    for group in groups.values():
        for chunk in _chunks(group):
            answers.update(_ingest(repos, chunk, request_id, now))
    results = [answers[i] for i in range(len(requests))]
    return {"results": results} if "requests" in body else results[0]


def _chunks(group: list[_Pending]) -> list[list[_Pending]]:
    """The group in runs of at most ``INGEST_MAX`` events (one ingestion call each)."""
    chunks: list[list[_Pending]] = [[]]
    for pending in group:
        if chunks[-1] and sum(len(p.events) for p in chunks[-1]) + len(pending.events) > INGEST_MAX:
            chunks.append([])
        chunks[-1].append(pending)
    return chunks
