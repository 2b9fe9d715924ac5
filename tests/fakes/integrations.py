"""In-memory fakes of the integration ports (``tollgate.ports.integrations``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.paging import fake_page
from tollgate.domain.errors import ConcurrentUpdate, Conflict
from tollgate.domain.integrations.integration import Integration
from tollgate.domain.paging import Page


@dataclass
class InMemoryIntegrationRepository:
    items: dict[tuple[str, str], Integration] = field(default_factory=dict)

    def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        return self.items.get((tenant_id, integration_id))

    def create(self, integration: Integration) -> None:
        key = (integration.tenant_id, integration.integration_id)
        if key in self.items:
            raise Conflict(f"Integration {integration.integration_id} exists.", code="INTEGRATION_EXISTS")
        self.items[key] = integration

    def save(self, before: Integration, after: Integration) -> None:
        current = self.items.get((before.tenant_id, before.integration_id))
        if current is None or current.version != before.version:
            raise ConcurrentUpdate("The integration changed while it was being updated; send the request again.")
        self.items[(after.tenant_id, after.integration_id)] = after

    def delete(self, integration: Integration) -> None:
        self.items.pop((integration.tenant_id, integration.integration_id), None)

    def page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Integration]:
        ordered = sorted((i for (t, _), i in self.items.items() if t == tenant_id), key=lambda i: i.integration_id)
        return fake_page(ordered, lambda i: i.integration_id, limit=limit, cursor=cursor)

    def count(self, tenant_id: str) -> int:
        return sum(1 for t, _ in self.items if t == tenant_id)


@dataclass
class InMemoryIntegrationCredentials:
    secrets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, tenant_id: str, integration_id: str) -> dict[str, Any] | None:
        value = self.secrets.get((tenant_id, integration_id))
        return copy.deepcopy(value) if value is not None else None

    def put(self, tenant_id: str, integration_id: str, credentials: dict[str, Any]) -> None:
        self.secrets[(tenant_id, integration_id)] = copy.deepcopy(credentials)

    def delete(self, tenant_id: str, integration_id: str) -> None:
        self.secrets.pop((tenant_id, integration_id), None)
