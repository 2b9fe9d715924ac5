"""The composition root of gateway integrations (issue 19), apart from ``wiring`` (at its size limit);
``wiring.reset`` resets these too."""

from __future__ import annotations

from functools import lru_cache

from tollgate.settings import get_settings


@lru_cache(maxsize=1)
def integration_repository():
    from tollgate.adapters.dynamodb.integrations import DynamoIntegrationRepository

    return DynamoIntegrationRepository(get_settings().main_table)


@lru_cache(maxsize=1)
def integration_credentials():
    from tollgate.adapters.integration_secrets import SecretsManagerIntegrationCredentials

    return SecretsManagerIntegrationCredentials()


def gateway_provider_factory():
    """Builds an integration's provider adapter (tests swap this for fakes)."""
    from tollgate.adapters.gateways.registry import build_provider

    return build_provider


def integration_deps():
    """Gateway integrations: the items, their secrets, the provider adapters (issue 19)."""
    from tollgate.adapters.webhooks import resolve
    from tollgate.usecases.integrations import IntegrationDeps

    settings = get_settings()
    return IntegrationDeps(
        repo=integration_repository(),
        credentials=integration_credentials(),
        build_provider=lambda integration, credentials: gateway_provider_factory()(integration, credentials),
        allow_private_urls=settings.webhook_allow_private_urls,
        resolve=resolve,
    )


def reset() -> None:
    for value in list(globals().values()):
        if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == __name__:
            value.cache_clear()
