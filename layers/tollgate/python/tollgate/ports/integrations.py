"""Ports of gateway integrations (issue 19): the integration items and their write-only credentials."""

from __future__ import annotations

from typing import Any, Protocol

from tollgate.domain.integrations.integration import Integration
from tollgate.domain.paging import Page


class IntegrationRepository(Protocol):
    """Integrations in the main table (``adapters/dynamodb/integrations.py``; fake: ``tests/fakes/integrations.py``)."""

    def get(self, tenant_id: str, integration_id: str) -> Integration | None: ...

    def create(self, integration: Integration) -> None:
        """Store a new integration (Conflict when its id exists)."""

    def save(self, before: Integration, after: Integration) -> None:
        """Replace ``before`` with ``after`` if it is unchanged since read (else ConcurrentUpdate)."""

    def delete(self, integration: Integration) -> None: ...

    def page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Integration]:
        """One page of the tenant's integrations in id order."""

    def count(self, tenant_id: str) -> int: ...


class IntegrationCredentials(Protocol):
    """One secret per integration, ``tollgate/{tenant_id}/integrations/{integration_id}`` on AWS (Secrets
    Manager; fake: ``tests/fakes/integrations.py``). Values are the type's credential fields."""

    def get(self, tenant_id: str, integration_id: str) -> dict[str, Any] | None: ...

    def put(self, tenant_id: str, integration_id: str, credentials: dict[str, Any]) -> None:
        """Create or replace the secret's value (idempotent)."""

    def delete(self, tenant_id: str, integration_id: str) -> None:
        """Remove the secret (nothing when absent)."""


class ProviderNotAvailable(Exception):
    """No gateway adapter is registered for the integration's type (``adapters/gateways/registry``)."""
