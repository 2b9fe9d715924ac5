"""Gateway integrations (issue 19): create, read, list, update (rotate credentials), delete, Test Connection.

Credentials go to their own secret (``IntegrationCredentials``) before the integration item that says they
are set, and are never read back out through the API. Test Connection builds the type's provider
(``adapters/gateways/registry.build_provider``) with the stored credentials and stores what it found.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.clock import utcnow
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.integrations.integration import (
    MAX_INTEGRATIONS_PER_TENANT,
    SPECS,
    Integration,
    IntegrationType,
    parse_type,
    validate_config,
    validate_credentials,
    validate_name,
)
from tollgate.domain.paging import Page
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.webhooks.urls import Resolver, check_url
from tollgate.ports.gateway_providers import UNEXPECTED_ANSWER, ConnectionCheck, GatewayProvider, unexpected_answer
from tollgate.ports.integrations import IntegrationCredentials, IntegrationRepository, ProviderNotAvailable


@dataclass(frozen=True)
class IntegrationDeps:
    repo: IntegrationRepository
    credentials: IntegrationCredentials
    build_provider: Callable[[Integration, dict[str, Any]], GatewayProvider]
    allow_private_urls: bool = False  # base URLs on private addresses (the local stack's vendor fakes)
    resolve: Resolver | None = None
    clock: Callable[[], datetime] = utcnow


def _check_urls(deps: IntegrationDeps, type_: IntegrationType, config: dict[str, str]) -> None:
    """A base URL must not point inside a network on AWS (SSRF), as for webhooks."""
    for name in SPECS[type_].url_fields:
        if name in config:
            try:
                check_url(config[name], allow_private=deps.allow_private_urls, resolve=deps.resolve or _no_resolver)
            except InvalidInput as exc:
                reason = exc.detail.removeprefix("url ").replace("webhooks go to public hosts", "use a public host")
                raise InvalidInput(f"config.{name}: {reason}", field=f"config.{name}") from None


GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def _check_token_uri(deps: IntegrationDeps, credentials: dict[str, str]) -> None:
    """A service-account key file's ``token_uri`` is where Tollgate POSTs: Google's, or a URL that passes the
    base URLs' check (a private one only where they may be private: locally), never an address inside AWS."""
    if "service_account_json" not in credentials:
        return
    uri = json.loads(credentials["service_account_json"]).get("token_uri", GOOGLE_TOKEN_URI)
    path = "credentials.service_account_json.token_uri"
    if uri == GOOGLE_TOKEN_URI:
        return
    if not isinstance(uri, str):
        raise InvalidInput(f"{path} must be {GOOGLE_TOKEN_URI} (or left out).", field=path)
    try:
        check_url(uri, allow_private=deps.allow_private_urls, resolve=deps.resolve or _no_resolver)
    except InvalidInput as exc:
        reason = exc.detail.removeprefix("url ").replace("webhooks go to public hosts", "use a public host")
        raise InvalidInput(f"{path}: {reason} (Google's is {GOOGLE_TOKEN_URI})", field=path) from None


def _no_resolver(host: str) -> list[str]:
    raise OSError(f"cannot resolve {host}")


def create(deps: IntegrationDeps, tenant_id: str, data: dict[str, Any]) -> Integration:
    type_ = parse_type(data.get("type"))
    name = validate_name(data.get("name"))
    config = validate_config(type_, data.get("config") or {}, tenant_id=tenant_id)
    _check_urls(deps, type_, config)
    credentials = validate_credentials(type_, data.get("credentials") or {})
    _check_token_uri(deps, credentials)
    if deps.repo.count(tenant_id) >= MAX_INTEGRATIONS_PER_TENANT:
        raise Conflict(
            f"A tenant has at most {MAX_INTEGRATIONS_PER_TENANT} integrations: delete one "
            "(DELETE /v1/integrations/{integration_id}) first.",
            code="INTEGRATION_LIMIT",
        )
    now = deps.clock()
    integration = Integration(
        integration_id=new_id("intg"),
        tenant_id=tenant_id,
        type=type_,
        name=name,
        config=config,
        created_at=now,
        updated_at=now,
        credentials_updated_at=now,
    )
    deps.credentials.put(tenant_id, integration.integration_id, credentials)  # the secret first: never "set" without it
    deps.repo.create(integration)
    return integration


def get(deps: IntegrationDeps, tenant_id: str, integration_id: str) -> Integration:
    integration = deps.repo.get(tenant_id, integration_id) if is_identifier(integration_id) else None
    if integration is None:
        raise NotFound(
            f"Integration not found: {shown(integration_id)}. List them with GET /v1/integrations.",
            code="INTEGRATION_NOT_FOUND",
        )
    return integration


def page(deps: IntegrationDeps, tenant_id: str, *, limit: int, cursor: str | None) -> Page[Integration]:
    return deps.repo.page(tenant_id, limit=limit, cursor=cursor)


def update(deps: IntegrationDeps, tenant_id: str, integration_id: str, changes: dict[str, Any]) -> Integration:
    """``name``, ``config`` (replaced whole; AWS keeps its ExternalId, which only Tollgate sets), ``credentials``
    (rotated: replaced whole). A new config or credentials sends the integration back to PENDING."""

    def once() -> Integration:
        before = get(deps, tenant_id, integration_id)
        fields: dict[str, Any] = {}
        if changes.get("name") is not None:
            fields["name"] = validate_name(changes["name"])
        if changes.get("config") is not None:
            fields["config"] = validate_config(
                before.type, changes["config"], tenant_id=tenant_id, external_id=before.config.get("external_id")
            )
            _check_urls(deps, before.type, fields["config"])
        credentials = None
        if changes.get("credentials") is not None:
            credentials = validate_credentials(before.type, changes["credentials"])
            _check_token_uri(deps, credentials)
            fields["credentials_updated_at"] = deps.clock()
        if not fields:
            return before
        after = before.changed(deps.clock(), **fields)
        if credentials is not None:
            deps.credentials.put(tenant_id, integration_id, credentials)
        deps.repo.save(before, after)
        return after

    return retry_on_conflict(once, exhausted=f"Integration {integration_id} kept changing; send the request again.")


def delete(deps: IntegrationDeps, tenant_id: str, integration_id: str) -> Integration:
    """Delete the integration and its secret (a repeated DELETE answers 404: it is gone). The secret goes
    first (deleting a missing one is fine): when that fails, the integration is still there to delete again."""
    integration = get(deps, tenant_id, integration_id)
    deps.credentials.delete(tenant_id, integration_id)
    deps.repo.delete(integration)
    return integration


def test_connection(deps: IntegrationDeps, tenant_id: str, integration_id: str) -> Integration:
    """A real call with the stored credentials; the result is stored on the integration and returned."""
    integration = get(deps, tenant_id, integration_id)
    check = run_check(deps, integration)
    at = deps.clock()

    def once() -> Integration:
        before = get(deps, tenant_id, integration_id)
        if (before.config, before.credentials_updated_at) != (integration.config, integration.credentials_updated_at):
            return before  # changed while being tested: this result is about what it was (it stays PENDING)
        after = before.checked(ok=check.ok, error_code=check.error_code, detail=check.detail, fix=check.fix, at=at)
        deps.repo.save(before, after)
        return after

    return retry_on_conflict(once, exhausted=f"Integration {integration_id} kept changing; send the request again.")


def run_check(deps: IntegrationDeps, integration: Integration) -> ConnectionCheck:
    from tollgate.domain.integrations.integration import FIXES

    credentials = deps.credentials.get(integration.tenant_id, integration.integration_id)
    if credentials is None:
        return ConnectionCheck(
            False,
            "GATEWAY_UNREACHABLE",
            "The integration's credentials are missing: set them with PATCH /v1/integrations/{integration_id}.",
            FIXES["GATEWAY_UNREACHABLE"],
        )
    try:
        provider = deps.build_provider(integration, credentials)
    except ProviderNotAvailable as exc:  # no adapter for the type (yet): report it, do not fail the request
        return ConnectionCheck(False, "GATEWAY_UNREACHABLE", str(exc), FIXES["GATEWAY_UNREACHABLE"])
    try:
        return provider.test_connection()
    except UNEXPECTED_ANSWER as exc:  # an odd vendor answer is the gateway's failure, never a 500
        return unexpected_answer(f"The {integration.type.value} gateway", exc).check()
