"""Which adapter serves which integration type: ``build_provider(integration, credentials)``.

Each adapter class is built as ``cls(integration, credentials, http=http)``: the integration (its type,
``config`` and tenant), its decrypted credentials, and an optional HTTP client (tests pass one; the
adapter otherwise makes its own, with 10 s timeouts). Modules are imported on first use, so the API
function loads only the adapter a request needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, cast

from tollgate.domain.integrations.integration import Integration, IntegrationType
from tollgate.ports.gateway_providers import GatewayProvider
from tollgate.ports.integrations import ProviderNotAvailable

# type -> "module:Class"
PROVIDERS: dict[IntegrationType, str] = {
    IntegrationType.AWS_API_GATEWAY: "tollgate.adapters.gateways.aws:AwsApiGatewayProvider",
    IntegrationType.KONG: "tollgate.adapters.gateways.kong:KongProvider",
    IntegrationType.AZURE_APIM: "tollgate.adapters.gateways.azure_apim:AzureApimProvider",
    IntegrationType.APIGEE: "tollgate.adapters.gateways.apigee:ApigeeProvider",
}


def provider_class(type_: IntegrationType) -> type:
    path = PROVIDERS.get(type_)
    if path is None:
        raise ProviderNotAvailable(f"No gateway adapter is registered for type {type_.value}.")
    module, name = path.split(":")
    return cast(type, getattr(import_module(module), name))


def build_provider(integration: Integration, credentials: dict[str, Any], http: Any = None) -> GatewayProvider:
    return cast(GatewayProvider, provider_class(integration.type)(integration, credentials, http=http))
