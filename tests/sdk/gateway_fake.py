"""A fake Tollgate gateway API (``httpx.MockTransport``) that answers as GATEWAY.md says, for client tests
without the server: policies, customer keys, hard meters; ``down`` makes every call a connection error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from tollgate_sdk.gateway.routes import first_match


def policy(policy_id: str = "pol_1", routes: tuple[str, ...] = ("GET /v1/widgets*",), **extra: Any) -> dict:
    return {
        "policy_id": policy_id,
        "routes": list(routes),
        "meters": {"api_requests": 1},
        "meter_on_status_codes": "200-299",
        "cache_ttl_seconds": 60,
        "max_stale_seconds": 3600,
        "fail_policy": "allow_known",
        "auth_header": "Authorization",
        "auth_scheme": "Bearer",
        "limit_mode": "cached",
    } | extra


@dataclass
class FakeGateway:
    policies: list[dict] = field(default_factory=lambda: [policy()])
    keys: dict[str, str] = field(default_factory=lambda: {"sk_live_good": "cus_1"})
    limit: Decimal = Decimal(100)
    used: Decimal = Decimal(0)
    down: bool = False
    checks: list[dict] = field(default_factory=list)
    meters: list[dict] = field(default_factory=list)
    usage_identifiers: dict[str, str] = field(default_factory=dict)  # customer -> identifier (a synced product)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("backend down", request=request)
        body = json.loads(request.content)
        if request.url.path == "/v1/gateway/check":
            self.checks.append(body)
            if "method" not in body:
                return httpx.Response(200, json=self.check_all(body["api_key"]))
            return httpx.Response(200, json=self.check(body["api_key"], body["method"], body["path"]))
        if request.url.path == "/v1/gateway/meter":
            items = body.get("requests", [body])
            results = [self.meter(item) for item in items]
            return httpx.Response(202, json={"results": results} if "requests" in body else results[0])
        return httpx.Response(404, json={"code": "ROUTE_NOT_FOUND"})

    def meter(self, item: dict) -> dict:
        self.meters.append(item)
        if 200 <= item["status_code"] < 300:
            self.used += Decimal(str((item.get("response_meters") or {}).get("api_requests", 1)))
            return {"metered": True, "reason": "METERED"}
        return {"metered": False, "reason": "STATUS_NOT_METERED"}

    def _key_problem(self, api_key: str) -> tuple[int, dict] | None:
        if not api_key:
            return 401, {"status": 401, "code": "KEY_MISSING", "title": "Key missing", "detail": "Send a key."}
        if api_key not in self.keys:
            return 403, {"status": 403, "code": "KEY_INVALID", "title": "Key invalid", "detail": "Not valid."}
        return None

    def _ids(self, api_key: str) -> dict:
        customer = self.keys.get(api_key)
        return {"customer_id": customer, "subscription_id": f"sub_{customer}" if customer else None}

    def _decide(self, api_key: str, pol: dict) -> dict:
        ttl = 0 if pol["limit_mode"] == "strict" else pol["cache_ttl_seconds"]
        remaining = max(self.limit - self.used, Decimal(0))
        meters = {
            "api_requests": {
                "limit": str(self.limit),
                "used": str(self.used),
                "remaining": str(remaining),
                "hard": True,
                "resets_at": "2099-01-01T00:00:00Z",
            }
        }
        base = {"policy": pol, "meters": meters, "cache_ttl_seconds": ttl, "headers": {}, **self._ids(api_key)}
        refused = self._key_problem(api_key)
        if refused:
            return base | {"allowed": False, "status": refused[0], "problem": refused[1], "cache_ttl_seconds": 60}
        if remaining < Decimal(str(pol["meters"]["api_requests"])):
            problem = {
                "status": 403,
                "code": "USAGE_LIMIT_REACHED",
                "meter": "api_requests",
                "detail": "Usage limit reached for api_requests",
                "resets_at": "2099-01-01T00:00:00Z",
            }
            return base | {"allowed": False, "status": 403, "problem": problem, "cache_ttl_seconds": 60}
        return base | {"allowed": True, "status": 200, "problem": None}

    def check(self, api_key: str, method: str, path: str) -> dict:
        pol = first_match(self.policies, method, path)
        if pol is None:
            return {
                "allowed": True,
                "status": 200,
                "reason": "NOT_COVERED",
                "policy": None,
                "problem": None,
                "meters": {},
                "headers": {},
                "cache_ttl_seconds": 60,
                **self._ids(api_key),
            }
        return self._decide(api_key, dict(pol))

    def check_all(self, api_key: str) -> dict:
        out: dict[str, Any] = {
            "decisions": [self._decide(api_key, dict(p)) for p in self.policies],
            "cache_ttl_seconds": 60,
            **self._ids(api_key),
        }
        refused = self._key_problem(api_key)
        out["usage_identifier"] = None if refused else self.usage_identifiers.get(out["customer_id"])
        if refused:
            out |= {"allowed": False, "status": refused[0], "problem": refused[1]}
        return out


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now
