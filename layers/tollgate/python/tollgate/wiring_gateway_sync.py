"""The composition root of product gateway sync (issue 19), apart from ``wiring`` (at its size limit)."""

from __future__ import annotations

from tollgate import wiring
from tollgate.settings import get_settings


def gateway_link_repository():
    from tollgate.adapters.dynamodb.gateway_links import DynamoGatewayLinkRepository

    return DynamoGatewayLinkRepository(get_settings().main_table)


def gateway_providers():
    """The integrations a link names (integ-core's repository, credentials and provider registry)."""
    from tollgate import wiring_gateways
    from tollgate.adapters.gateways.link_providers import IntegrationProviders

    return IntegrationProviders(
        wiring_gateways.integration_repository(),
        wiring_gateways.integration_credentials(),
        lambda integration, credentials: wiring_gateways.gateway_provider_factory()(integration, credentials),
    )


def sync_deps():
    from tollgate.usecases.gateway_sync import SyncDeps

    return SyncDeps(
        links=gateway_link_repository(),
        providers=gateway_providers(),
        catalog=wiring.catalog_repository(),
        subscriptions=wiring.subscription_repository(),
        refresh=refresh_snapshots,
    )


def refresh_snapshots(tenant_id: str, customer_ids: set[str]) -> int:
    """Rebuild the access snapshots of customers whose subscriptions got (or lost) a usage identifier."""
    from tollgate.usecases.gateway.snapshots import refresh_customers

    return refresh_customers(wiring.gateway_repos(), {(tenant_id, c) for c in customer_ids})
