"""Product ↔ gateway links (issue 19): the link with its state, and each subscription's usage identifier.

Contract every implementation keeps (``adapters/dynamodb/gateway_links.py`` and ``tests/fakes/gateway_links.py``):

- Reads take the caller's ``tenant_id``: another tenant's product finds nothing.
- ``save`` is conditional: a new link (``expected_revision`` None) must not exist, an existing one must
  still be at ``expected_revision`` (else ``ConcurrentUpdate``); the link and its ``events`` (the outbox)
  are written atomically.
- A usage identifier is generated once: ``add_usage_identifiers`` never replaces a stored one, and answers
  every identifier stored for the product after the write (a concurrent writer's value wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from tollgate.domain.events import DomainEvent
from tollgate.domain.integrations.gateway_link import GatewayLink
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import Subscription
from tollgate.ports.gateway_providers import GatewayProvider


class GatewayLinkRepository(Protocol):
    def get(self, tenant_id: str, product_id: str) -> GatewayLink | None: ...

    def save(self, link: GatewayLink, expected_revision: int | None, events: list[DomainEvent]) -> None: ...

    def delete(self, tenant_id: str, product_id: str) -> None:
        """Remove the link and its usage identifiers (nothing when there is none)."""
        ...

    def usage_identifiers(self, tenant_id: str, product_id: str) -> dict[str, str]:
        """subscription id → usage identifier, for every subscription of the product given one."""
        ...

    def usage_identifier(self, tenant_id: str, product_id: str, subscription_id: str) -> str | None:
        """One subscription's usage identifier (one read; the access snapshot's build asks it), None when the
        product is not linked or the subscription was never given one."""
        ...

    def add_usage_identifiers(self, tenant_id: str, product_id: str, new: Mapping[str, str]) -> dict[str, str]: ...

    def page_all(self, *, limit: int, cursor: str | None = None) -> Page[tuple[str, str]]:
        """Every link of every tenant as (tenant id, product id): what the scheduled drift check walks."""
        ...


class GatewayProviders(Protocol):
    """The integrations a link may name (integ-core's IntegrationRepository, credentials and registry)."""

    def integration_type(self, tenant_id: str, integration_id: str) -> str | None:
        """The integration's type (``aws_api_gateway``, ``kong``…), None when the tenant has no such integration."""
        ...

    def provider(self, tenant_id: str, integration_id: str) -> GatewayProvider:
        """The connected provider; raises ``ProviderFailure`` when it cannot be built (no credentials…)."""
        ...


class TenantSubscriptions(Protocol):
    """What the sync reads of subscriptions (``ports.customers.SubscriptionRepository`` has it)."""

    def list_for_tenant(self, tenant_id: str) -> list[Subscription]: ...
