"""The integrations a product gateway link names, as ``ports.gateway_links.GatewayProviders``: the
integration item (type, config), its credentials (Secrets Manager) and the provider registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tollgate.ports.gateway_providers import GatewayProvider, ProviderFailure

FIX_MISSING = "Link the product to an existing integration (GET /v1/integrations lists them)"


class IntegrationProviders:
    """``repo.get(tenant_id, integration_id)`` → the integration (``.type``), ``credentials.get(...)`` → its
    secret's values, ``build(integration, credentials)`` → its GatewayProvider."""

    def __init__(self, repo: Any, credentials: Any, build: Callable[[Any, dict[str, Any]], GatewayProvider]) -> None:
        self.repo, self.credentials, self.build = repo, credentials, build

    def integration_type(self, tenant_id: str, integration_id: str) -> str | None:
        integration = self.repo.get(tenant_id, integration_id)
        return None if integration is None else str(getattr(integration.type, "value", integration.type))

    def provider(self, tenant_id: str, integration_id: str) -> GatewayProvider:
        integration = self.repo.get(tenant_id, integration_id)
        if integration is None:
            raise ProviderFailure(
                "GATEWAY_NOT_FOUND", f"The linked integration {integration_id} no longer exists.", FIX_MISSING
            )
        secret = self.credentials.get(tenant_id, integration_id) or {}
        try:
            return self.build(integration, secret)
        except ProviderFailure:
            raise
        except Exception as error:  # no adapter for the type yet (ProviderNotAvailable), bad config
            raise ProviderFailure(
                "GATEWAY_NOT_FOUND",
                f"Tollgate cannot reach integration {integration_id}: {error}",
                f"Check the integration with POST /v1/integrations/{integration_id}/test",
            ) from error
