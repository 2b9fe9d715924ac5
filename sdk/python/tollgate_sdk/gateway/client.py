"""The gateway client: ``check()`` before a request (cached), ``meter()`` after it.

    gw = GatewayClient(api_url="https://api.example.com", gateway_key="afo_…", tenant_id="ten_…")
    decision = gw.check(customer_key, "GET", "/v1/widgets")
    if not decision.allowed:
        return decision.status, decision.problem, decision.headers
    ...
    gw.meter(request_id, customer_key, "GET", "/v1/widgets", status_code=200)

Only the server decides (``POST /v1/gateway/check``); this client caches its answers (see
:mod:`tollgate_sdk.gateway.cache`). When the server cannot be reached (network error, timeout, 5xx,
or a refusal of the gateway key itself) it serves the cached answer up to ``max_stale_seconds`` past its
expiry, then applies the fail policy (the policy's, else the client's ``fail_policy``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from tollgate_sdk._version import __version__
from tollgate_sdk.gateway.cache import Clock, DecisionCache, key_hash, route_slot
from tollgate_sdk.gateway.decision import (
    FAIL_POLICIES,
    Decision,
    FailPolicy,
    billing_unavailable,
    decimal_or_none,
    decision_from,
    fail_decision,
    increments_of,
)

log = logging.getLogger("tollgate_sdk.gateway")

CHECK_PATH = "/v1/gateway/check"
METER_PATH = "/v1/gateway/meter"
ALL_POLICIES_SLOT = "all-policies"
METER_BATCH_LIMIT = 100


class GatewayClient:
    def __init__(
        self,
        api_url: str,
        gateway_key: str,
        tenant_id: str | None = None,
        *,
        fail_policy: FailPolicy = "allow_known",
        timeout: float = 2.0,
        meter_attempts: int = 2,
        transport: httpx.BaseTransport | None = None,
        cache: DecisionCache | None = None,
        clock: Clock | None = None,
        wall: Clock | None = None,
        spend_fraction: float = 0.5,
    ):
        if fail_policy not in FAIL_POLICIES:
            raise ValueError(f"fail_policy={fail_policy!r}: use one of {FAIL_POLICIES}")
        self.fail_policy = fail_policy
        self.meter_attempts = max(1, meter_attempts)
        kwargs: dict[str, Any] = {k: v for k, v in (("clock", clock), ("wall", wall)) if v is not None}
        kwargs["spend_fraction"] = spend_fraction
        self.cache = cache or DecisionCache(**kwargs)
        headers = {
            "Authorization": f"Bearer {gateway_key}",
            "Content-Type": "application/json",
            "User-Agent": f"tollgate-sdk-python/{__version__} gateway",
        }
        if tenant_id:
            headers["X-Tenant-Id"] = tenant_id
        self._http = httpx.Client(base_url=api_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.server_calls = 0  # requests sent to the server (the bench counts backend reads with it)

    def close(self) -> None:
        self._http.close()

    # -- the decision -----------------------------------------------------------------------------
    def check(
        self, api_key: str | None, method: str, path: str, meters: Mapping[str, object] | None = None
    ) -> Decision:
        """The decision for one request; ``meters`` overrides the policy's increments."""
        api_key = api_key or ""
        method = method.upper()
        khash = key_hash(api_key)
        known = self.cache.policy_for(method, path)
        slot = str(known["policy_id"]) if known else route_slot(method, path)
        increments = increments_of(meters if meters is not None else (known or {}).get("meters"))
        cached = self.cache.lookup(khash, slot, increments)
        if cached is not None:
            return decision_from(cached, increments, "cache")
        body: dict[str, Any] = {"api_key": api_key, "method": method, "path": path}
        if meters is not None:
            body["meters"] = {k: str(v) if isinstance(v, Decimal) else v for k, v in meters.items()}
        answer = self._post(CHECK_PATH, body)
        if answer is not None:
            policy = answer.get("policy") or {}
            increments = increments_of(meters if meters is not None else policy.get("meters"))
            self.cache.store(khash, slot, answer, increments)
            return decision_from(answer, increments, "server")
        stale = self.cache.stale(khash, slot)
        if stale is not None:
            return decision_from(stale, increments, "stale")
        return fail_decision(self._fail_allows(khash, known), path, increments, known)

    def check_all(self, api_key: str | None) -> dict[str, Any]:
        """All-policies mode (the Lambda authorizer): one answer with a decision per policy."""
        api_key = api_key or ""
        khash = key_hash(api_key)
        cached = self.cache.lookup(khash, ALL_POLICIES_SLOT, {})
        if cached is not None:
            return {**cached, "source": "cache"}
        answer = self._post(CHECK_PATH, {"api_key": api_key})
        if answer is not None:
            answer = {**answer, "allowed": answer.get("allowed", True)}
            for item in answer.get("decisions") or []:
                self.cache.learn_policy(item.get("policy"))
            self.cache.store(khash, ALL_POLICIES_SLOT, answer, {})
            return {**answer, "source": "server"}
        stale = self.cache.stale(khash, ALL_POLICIES_SLOT)
        if stale is not None:
            return {**stale, "source": "stale"}
        if self._fail_allows(khash, None):
            return {"allowed": True, "status": 200, "decisions": [], "source": "fail_policy"}
        problem = billing_unavailable()
        return {"allowed": False, "status": 503, "problem": problem, "decisions": [], "source": "fail_policy"}

    def _fail_allows(self, khash: str, policy: Mapping[str, Any] | None) -> bool:
        mode = (policy or {}).get("fail_policy") or self.fail_policy
        return mode == "allow_all" or (mode == "allow_known" and self.cache.knows(khash))

    # -- metering ---------------------------------------------------------------------------------
    def meter(
        self,
        request_id: str,
        api_key: str | None,
        method: str,
        path: str,
        status_code: int,
        meters: Mapping[str, object] | None = None,
        response_meters: Mapping[str, str] | None = None,
        timestamp: str | None = None,
    ) -> dict[str, Any] | None:
        """Meter one answered request (the server applies the status filter); None if it could not be sent."""
        body = meter_request(request_id, api_key, method, path, status_code, meters, response_meters, timestamp)
        result = self._post(METER_PATH, body, attempts=self.meter_attempts)
        if response_meters:
            self._correct_consumption(api_key or "", method, path, response_meters)
        return result

    def meter_many(self, requests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        """The batch form, 100 requests per call; one result (None: not sent) per request, in order."""
        pending = list(requests)
        results: list[dict[str, Any] | None] = []
        for start in range(0, len(pending), METER_BATCH_LIMIT):
            chunk = pending[start : start + METER_BATCH_LIMIT]
            answer = self._post(METER_PATH, {"requests": chunk}, attempts=self.meter_attempts)
            got = (answer or {}).get("results")
            results.extend(got if isinstance(got, list) and len(got) == len(chunk) else [None] * len(chunk))
        return results

    def _correct_consumption(self, api_key: str, method: str, path: str, response_meters: Mapping[str, str]) -> None:
        policy = self.cache.policy_for(method.upper(), path)
        if policy is None:
            return
        increments = increments_of(policy.get("meters"))
        deltas = {}
        for name, raw in response_meters.items():
            value = decimal_or_none(raw)
            if value is not None and value >= 0:
                deltas[name] = value - increments.get(name, Decimal(0))
        self.cache.adjust(key_hash(api_key), str(policy["policy_id"]), deltas)

    # -- HTTP -------------------------------------------------------------------------------------
    def _post(self, path: str, body: Mapping[str, Any], attempts: int = 1) -> dict[str, Any] | None:
        for attempt in range(attempts):
            self.server_calls += 1
            try:
                response = self._http.post(path, json=body)
            except httpx.HTTPError as exc:
                log.warning("tollgate gateway %s unreachable (attempt %d): %s", path, attempt + 1, exc)
                continue
            if 200 <= response.status_code < 300:
                try:
                    data = response.json()
                except ValueError:
                    data = None
                if isinstance(data, dict):
                    return data
                log.warning("tollgate gateway %s answered %d without a JSON object", path, response.status_code)
                continue
            log.warning("tollgate gateway %s answered %d: %s", path, response.status_code, response.text[:300])
            if response.status_code < 500 and response.status_code != 429:
                return None  # the gateway key or the request is refused: retrying will not help
        return None


def meter_request(
    request_id: str,
    api_key: str | None,
    method: str,
    path: str,
    status_code: int,
    meters: Mapping[str, object] | None = None,
    response_meters: Mapping[str, str] | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "request_id": request_id,
        "api_key": api_key or "",
        "method": method.upper(),
        "path": path,
        "status_code": int(status_code),
    }
    if meters is not None:
        body["meters"] = {k: str(v) if isinstance(v, Decimal) else v for k, v in meters.items()}
    if response_meters:
        body["response_meters"] = dict(response_meters)
    if timestamp:
        body["timestamp"] = timestamp
    return body
