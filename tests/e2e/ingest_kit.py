"""Helpers for the ingestion e2e tests: a tenant of one's own, meters, customers, events, usage."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from tests.e2e.conftest import client
from tollgate.domain.usage.canonical import canonical_json

PROBLEM = "application/problem+json"


def dumps(body) -> bytes:
    """JSON with Decimals written as the exact numbers they are (httpx's json= refuses Decimal)."""
    return canonical_json(body, sort_keys=False).encode()


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    return r.json() if r.content else {}


def problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}"
    assert r.headers["content-type"] == PROBLEM, r.headers["content-type"]
    body = r.json()
    assert body["status"] == status and body["detail"] and body["type"] and body["title"] and body["instance"]
    return body


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def rfc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ago(**delta) -> str:
    return rfc(datetime.now(UTC) - timedelta(**delta))


@dataclass
class Tenant:
    server: object
    tenant_id: str
    owner: httpx.Client
    owner_key: str

    def key(self, **body) -> str:
        return ok(self.owner.post("/v1/api-keys", json=body), 201)["secret"]

    def client_for(self, secret: str) -> httpx.Client:
        return client(self.server, secret, self.tenant_id)

    def operator(self, role: str) -> httpx.Client:
        return self.client_for(self.key(kind="operator", role=role, name=f"{role} key"))

    def customer_client(self, customer_id: str) -> httpx.Client:
        return self.client_for(self.key(kind="customer", customer_id=customer_id, name="customer key"))

    def meter(
        self, event_name: str | None = None, function: str = "SUM", field: str | None = "properties.credits", **extra
    ) -> dict:
        aggregation = {"function": function} | ({"field": field} if function != "COUNT" else {})
        body = {"event_name": event_name or unique("model.usage"), "aggregation": aggregation, **extra}
        return ok(self.owner.post("/v1/meters", json=body), 201)

    def customer(self, external_id: str | None = None) -> dict:
        return ok(
            self.owner.post("/v1/customers", json={"external_id": external_id or unique("cust"), "name": "Ada"}), 201
        )

    def send(self, body, c: httpx.Client | None = None, status: int = 202) -> dict:
        r = (c or self.owner).post(
            "/v1/ingest/events", content=dumps(body), headers={"Content-Type": "application/json"}
        )
        return ok(r, status) if status < 400 else problem(r, status)

    def usage(self, external_customer_id: str, event_name: str, c: httpx.Client | None = None, **params) -> dict:
        params = {"external_customer_id": external_customer_id, "event_name": event_name, **params}
        params.setdefault("from", ago(days=89))
        return ok((c or self.owner).get("/v1/usage", params=params))

    def wait_usage(self, external_customer_id: str, event_name: str, expected, timeout: float = 5.0, **params) -> dict:
        """Poll the usage query until its total is ``expected`` (aggregation runs off the stream)."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.usage(external_customer_id, event_name, **params)
            if Decimal(body["value"]) == Decimal(str(expected)):
                return body
            assert time.monotonic() < deadline, f"usage stayed {body['value']}, expected {expected}"
            time.sleep(0.1)

    def settle(self) -> None:
        """Deliver everything pending now (streams, queues), instead of sleeping."""
        self.server.stack.drain()

    def log(self, **params) -> list[dict]:
        """The event log's entries (newest first) up to ``limit`` (default 100), page by page."""
        want, out, cursor = int(params.pop("limit", 100)), [], None
        while len(out) < want:
            asked = {**params, "limit": min(100, want - len(out)), **({"starting_after": cursor} if cursor else {})}
            page = ok(self.owner.get("/v1/ingest/events", params=asked))
            out += page["data"]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        return out


def fresh_tenant(server, name: str = "ingest") -> Tenant:
    boot = server.stack.bootstrap_tenant(name)
    return Tenant(server, boot.tenant_id, client(server, boot.operator_key, boot.tenant_id), boot.operator_key)


def event(customer: str, name: str, credits=2, **extra) -> dict:
    return {
        "event_id": unique("evt"),
        "event_name": name,
        "external_customer_id": customer,
        "properties": {"credits": credits},
        **extra,
    }
