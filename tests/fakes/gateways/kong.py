"""A fake Kong: the Admin API (``Kong-Admin-Token``, Kong Enterprise RBAC) and a Konnect control plane's
core entities (``/v2/control-planes/{id}/core-entities``, ``Authorization: Bearer kpat_…``), the entities
Tollgate uses: services, routes, consumers, key-auth credentials, plugins; tags and ``tags=`` filters
(``a,b`` = all of, ``a/b`` = any of); ``size``/``offset`` paging; ``PUT`` as upsert by id.

``tokens`` are the valid PATs; ``expire(token)`` makes one answer 401 the way Kong does (Admin API:
``{"message": "Invalid credentials. Token or User credentials required"}``; Konnect: its problem body).
A test adds the tenant's own config by hand with ``add_service`` / ``add_route`` / ``add_plugin``."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from tests.fakes.gateways._server import Answer, FakeServer, Request, page

_KONNECT = re.compile(r"^/v2/control-planes/[^/]+/core-entities(/.*)$")
RATE_LIMITING_DEFAULTS = {
    "second": None,
    "minute": None,
    "hour": None,
    "day": None,
    "month": None,
    "year": None,
    "limit_by": "consumer",
    "policy": "local",
    "fault_tolerant": True,
    "hide_client_headers": False,
    "error_code": 429,
    "error_message": "API rate limit exceeded",
}
KINDS = ("services", "routes", "consumers", "plugins", "key-auth")


class FakeKong(FakeServer):
    def __init__(self, token: str = "kpat_valid") -> None:
        super().__init__()
        self.tokens = {token}
        self.expired: set[str] = set()
        self.store: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}

    def expire(self, token: str) -> None:
        self.expired.add(token)

    # -- the tenant's own config, added by hand -------------------------------------------------------

    def _new(self, kind: str, entity: dict[str, Any]) -> dict[str, Any]:
        entity = {"id": str(uuid.uuid4()), "created_at": int(time.time()), "tags": None, **entity}
        with self.lock:
            self.store[kind][entity["id"]] = entity
        return entity

    def add_service(self, name: str, host: str = "upstream.internal") -> dict[str, Any]:
        return self._new("services", {"name": name, "host": host, "port": 80, "protocol": "http", "path": None})

    def add_route(self, service: str, name: str, paths: list[str], tags: list[str] | None = None) -> dict[str, Any]:
        svc = self._find("services", service)
        assert svc is not None
        return self._new("routes", {"name": name, "paths": paths, "service": {"id": svc["id"]}, "tags": tags})

    def add_plugin(self, service: str, name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
        svc = self._find("services", service)
        assert svc is not None
        return self._new(
            "plugins",
            {"name": name, "service": {"id": svc["id"]}, "consumer": None, "route": None, "config": config or {}},
        )

    # -- HTTP ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Answer:
        konnect = _KONNECT.match(request.path)
        path = konnect.group(1) if konnect else request.path
        token = _token(request, konnect is not None)
        if token not in self.tokens or token in self.expired:
            if konnect:
                return 401, {
                    "status": 401,
                    "title": "Unauthorized",
                    "type": "https://httpstatuses.com/401",
                    "instance": f"kong:trace:{uuid.uuid4().int % 10**19}",
                    "detail": "Invalid credentials",
                }
            return 401, {"message": "Invalid credentials. Token or User credentials required"}
        parts = [p for p in path.split("/") if p]
        try:
            return self._route(request, parts)
        except KeyError:
            return 404, {"message": "Not found"}

    def _route(self, request: Request, parts: list[str]) -> Answer:
        method = request.method
        if len(parts) == 1 and method == "GET":
            return self._list(parts[0], request.query)
        if len(parts) == 3 and method == "GET" and parts[0] in ("services", "consumers"):
            owner = self._get(parts[0], parts[1])
            field = "service" if parts[0] == "services" else "consumer"
            items = [e for e in self.store[parts[2]].values() if (e.get(field) or {}).get("id") == owner["id"]]
            return self._paged(items, request.query)
        if len(parts) == 2 and parts[0] in KINDS:
            return self._entity(request, parts[0], parts[1], {})
        if len(parts) == 4 and parts[0] == "consumers" and parts[2] == "key-auth":
            consumer = self._get("consumers", parts[1])
            return self._entity(request, "key-auth", parts[3], {"consumer": {"id": consumer["id"]}})
        return 404, {"message": "Not found"}

    def _entity(self, request: Request, kind: str, ref: str, scope: dict[str, Any]) -> Answer:
        found = self._find(kind, ref)
        if request.method == "GET":
            return (200, found) if found else (404, {"message": "Not found"})
        if request.method == "DELETE":
            if found:
                self._delete(kind, found["id"])
            return 204, None
        body = request.json()
        if request.method == "PATCH":
            if not found:
                return 404, {"message": "Not found"}
            found.update(body)
            return 200, found
        if request.method == "PUT":
            entity = {"id": ref, "created_at": int(time.time()), "tags": None, **scope, **body}
            if kind == "plugins" and entity.get("name") == "rate-limiting":
                entity["config"] = {**RATE_LIMITING_DEFAULTS, **(entity.get("config") or {})}
                entity.setdefault("route", None)
                entity.setdefault("enabled", True)
            conflict = self._unique_conflict(kind, entity)
            if conflict:
                return 409, {"code": 5, "name": "unique constraint violation", "message": conflict}
            self.store[kind][ref] = entity
            return 200, entity
        return 405, {"message": "Method not allowed"}

    def _unique_conflict(self, kind: str, entity: dict[str, Any]) -> str | None:
        field = {"consumers": "username", "key-auth": "key", "services": "name"}.get(kind)
        if field is None or entity.get(field) is None:
            return None
        for other in self.store[kind].values():
            if other["id"] != entity["id"] and other.get(field) == entity[field]:
                return f"UNIQUE violation detected on '{{{field}=\"{entity[field]}\"}}'"
        return None

    def _list(self, kind: str, query: dict[str, str]) -> Answer:
        if kind not in KINDS:
            return 404, {"message": "Not found"}
        items = list(self.store[kind].values())
        if query.get("tags"):
            items = [e for e in items if _tags_match(e.get("tags") or [], query["tags"])]
        return self._paged(items, query)

    def _paged(self, items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
        chunk, offset = page(sorted(items, key=lambda e: e["id"]), query)
        body: dict[str, Any] = {"data": chunk, "next": None}
        if offset:
            body["offset"] = offset
            body["next"] = f"?offset={offset}"
        return 200, body

    def _find(self, kind: str, ref: str) -> dict[str, Any] | None:
        if ref in self.store[kind]:
            return self.store[kind][ref]
        field = {"services": "name", "routes": "name", "consumers": "username"}.get(kind)
        return next((e for e in self.store[kind].values() if field and e.get(field) == ref), None)

    def _get(self, kind: str, ref: str) -> dict[str, Any]:
        found = self._find(kind, ref)
        if found is None:
            raise KeyError(ref)
        return found

    def _delete(self, kind: str, entity_id: str) -> None:
        self.store[kind].pop(entity_id, None)
        if kind == "consumers":  # Kong cascades a consumer's credentials and plugins
            for child in ("key-auth", "plugins"):
                for e in list(self.store[child].values()):
                    if (e.get("consumer") or {}).get("id") == entity_id:
                        self.store[child].pop(e["id"])


def _token(request: Request, konnect: bool) -> str | None:
    if konnect:
        auth = request.headers.get("authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None
    return request.headers.get("kong-admin-token")


def _tags_match(tags: list[str], expr: str) -> bool:
    if "/" in expr:
        return any(t in tags for t in expr.split("/"))
    return all(t in tags for t in expr.split(","))
