"""Product gateway sync, drift check and restore (issue 19; states: ``domain.integrations.gateway_link``).

- ``link_product`` (PUT): links a product to an integration with a target; idempotent.
- ``sync`` / ``restore``: build the DesiredGateway, ``apply`` it, ``read`` it back and diff with
  ``render``: nothing left → IN_SYNC, else SYNC_FAILED / RESTORE_FAILED listing what still differs.
- ``check``: ``read`` and diff with ``render`` (nothing is pushed): IN_SYNC or STALE
  (``product.gateway_stale`` on entering STALE).
- ``check_all``: the scheduled drift check, every link of every tenant, one failure never stops the walk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tollgate.domain.catalog import Product
from tollgate.domain.catalog.common import is_identifier, shown
from tollgate.domain.errors import InvalidInput, NotFound
from tollgate.domain.ids import new_id
from tollgate.domain.integrations.desired import DesiredGateway
from tollgate.domain.integrations.desired_build import build_desired, subscriptions_needing_keys
from tollgate.domain.integrations.drift import diff
from tollgate.domain.integrations.gateway_link import GatewayLink, Operation, new_link, parse_target
from tollgate.domain.retry import retry_on_conflict
from tollgate.ports.catalog import CatalogRepository
from tollgate.ports.gateway_links import GatewayLinkRepository, GatewayProviders, TenantSubscriptions
from tollgate.ports.gateway_providers import UNEXPECTED_ANSWER, GatewayProvider, ProviderFailure, unexpected_answer

log = logging.getLogger(__name__)
USAGE_IDENTIFIER_PREFIX = "tgu"
USAGE_IDENTIFIER_LENGTH = 32  # an AWS API key value needs at least 20 characters


@dataclass(frozen=True)
class SyncDeps:
    links: GatewayLinkRepository
    providers: GatewayProviders
    catalog: CatalogRepository
    subscriptions: TenantSubscriptions
    # rebuild the access snapshots of these customers of the tenant (their check answer carries the usage
    # identifier: ``usecases.gateway.snapshots.refresh_customers``); None: left to the snapshots' age limit
    refresh: Callable[[str, set[str]], object] | None = None


def _refresh(deps: SyncDeps, tenant_id: str, customers: set[str]) -> None:
    if deps.refresh is not None and customers:
        deps.refresh(tenant_id, customers)


def _product(deps: SyncDeps, tenant_id: str, product_id: str) -> Product:
    product = deps.catalog.get_product(tenant_id, product_id) if is_identifier(product_id) else None
    if product is None:
        raise NotFound(f"No product {shown(product_id)} in this tenant.", code="PRODUCT_NOT_FOUND")
    return product


def get_link(deps: SyncDeps, tenant_id: str, product_id: str) -> GatewayLink:
    _product(deps, tenant_id, product_id)
    link = deps.links.get(tenant_id, product_id)
    if link is None:
        raise NotFound(
            f"Product {product_id} is not linked to a gateway: PUT /v1/products/{product_id}/gateway "
            'with {"integration_id", "target"} links it.',
            code="GATEWAY_NOT_LINKED",
        )
    return link


def link_product(
    deps: SyncDeps, tenant_id: str, product_id: str, integration_id: str, target: dict[str, Any], at: datetime
) -> tuple[GatewayLink, bool]:
    """Link (or relink) the product; answers the link and whether it was created."""
    _product(deps, tenant_id, product_id)
    kind = deps.providers.integration_type(tenant_id, integration_id)
    if kind is None:
        raise InvalidInput(
            f"No integration {integration_id} in this tenant (GET /v1/integrations lists them).", field="integration_id"
        )
    parsed = parse_target(kind, target)

    def step() -> tuple[GatewayLink, bool]:
        current = deps.links.get(tenant_id, product_id)
        if current is None:
            link = new_link(tenant_id, product_id, integration_id, parsed, at)
            deps.links.save(link, None, [])
            return link, True
        moved = current.relinked(integration_id, parsed, at)
        if moved is current:
            return current, False
        moved = replace(moved, revision=current.revision + 1)
        deps.links.save(moved, current.revision, [])
        return moved, False

    return retry_on_conflict(step, exhausted=f"The gateway link of product {product_id} kept changing; retry.")


def unlink(deps: SyncDeps, tenant_id: str, product_id: str) -> None:
    get_link(deps, tenant_id, product_id)
    owned = deps.links.usage_identifiers(tenant_id, product_id)
    deps.links.delete(tenant_id, product_id)
    subs = deps.subscriptions.list_for_tenant(tenant_id) if owned else []
    _refresh(deps, tenant_id, {s.customer_id for s in subs if s.subscription_id in owned})


def desired_for(deps: SyncDeps, link: GatewayLink) -> DesiredGateway:
    """What Tollgate would push for the linked product (usage identifiers generated once, then stored)."""
    return _desired(deps, link)[0]


def _desired(deps: SyncDeps, link: GatewayLink) -> tuple[DesiredGateway, set[str]]:
    """The DesiredGateway and the customers whose subscriptions were given a usage identifier now."""
    product = _product(deps, link.tenant_id, link.product_id)
    plans = [p for p in deps.catalog.list_plans(link.tenant_id) if p.product_id == product.product_id]
    versions = {p.plan_id: deps.catalog.list_versions(link.tenant_id, p.plan_id) for p in plans}
    plan_ids = {p.plan_id for p in plans}
    subscriptions = [s for s in deps.subscriptions.list_for_tenant(link.tenant_id) if s.plan.plan_id in plan_ids]
    identifiers = deps.links.usage_identifiers(link.tenant_id, link.product_id)
    missing = {
        s.subscription_id: new_id(USAGE_IDENTIFIER_PREFIX, USAGE_IDENTIFIER_LENGTH)
        for s in subscriptions_needing_keys(product.product_id, plans, versions, subscriptions)
        if s.subscription_id not in identifiers
    }
    if missing:
        identifiers = deps.links.add_usage_identifiers(link.tenant_id, link.product_id, missing)
    given = {s.customer_id for s in subscriptions if s.subscription_id in missing}
    return build_desired(product, plans, versions, subscriptions, identifiers, link.target), given


def _record(
    deps: SyncDeps, tenant_id: str, product_id: str, outcome: Callable[[GatewayLink], tuple[GatewayLink, list]]
) -> GatewayLink:
    """Write an operation's outcome on the freshest link (a concurrent PUT or check is re-read)."""

    def step() -> GatewayLink:
        current = get_link(deps, tenant_id, product_id)
        link, events = outcome(current)
        link = replace(link, revision=current.revision + 1)
        deps.links.save(link, current.revision, events)
        return link

    return retry_on_conflict(step, exhausted=f"The gateway link of product {product_id} kept changing; retry.")


def _compare(provider: GatewayProvider, desired: DesiredGateway) -> list[dict[str, Any]]:
    return diff(provider.read(desired), provider.render(desired))


def _run(deps: SyncDeps, tenant_id: str, product_id: str, operation: Operation, at: datetime) -> GatewayLink:
    link = get_link(deps, tenant_id, product_id)
    desired, given = _desired(deps, link)
    try:
        return _operate(deps, link, desired, operation, at)
    finally:
        _refresh(deps, tenant_id, given)


def _operate(
    deps: SyncDeps, link: GatewayLink, desired: DesiredGateway, operation: Operation, at: datetime
) -> GatewayLink:
    tenant_id, product_id = link.tenant_id, link.product_id
    try:
        provider = deps.providers.provider(tenant_id, link.integration_id)
        if operation is not Operation.CHECK:
            provider.apply(desired)
        ops = _compare(provider, desired)
    except (ProviderFailure, *UNEXPECTED_ANSWER) as exc:  # an odd vendor answer is a failure, never a 500
        failure = exc if isinstance(exc, ProviderFailure) else unexpected_answer(_gateway_of(deps, link), exc)
        code, detail, fix = failure.error_code, failure.detail, failure.fix
        return _record(deps, tenant_id, product_id, lambda cur: (cur.failed(operation, code, detail, fix, at), []))
    if operation is Operation.CHECK:
        return _record(deps, tenant_id, product_id, lambda cur: cur.checked(ops, at))
    return _record(deps, tenant_id, product_id, lambda cur: (cur.pushed(operation, ops, at), []))


def _gateway_of(deps: SyncDeps, link: GatewayLink) -> str:
    kind = deps.providers.integration_type(link.tenant_id, link.integration_id) or "linked"
    return f"The {kind} gateway (integration {link.integration_id})"


def sync(deps: SyncDeps, tenant_id: str, product_id: str, at: datetime) -> GatewayLink:
    return _run(deps, tenant_id, product_id, Operation.SYNC, at)


def check(deps: SyncDeps, tenant_id: str, product_id: str, at: datetime) -> GatewayLink:
    return _run(deps, tenant_id, product_id, Operation.CHECK, at)


def restore(deps: SyncDeps, tenant_id: str, product_id: str, at: datetime) -> GatewayLink:
    return _run(deps, tenant_id, product_id, Operation.RESTORE, at)


@dataclass
class CheckRun:
    checked: int = 0
    stale: int = 0
    failed: int = 0


def check_all(deps: SyncDeps, at: datetime, page_size: int = 100) -> CheckRun:
    """The scheduled drift check: every link; a link that cannot be checked is logged and skipped. The
    snapshots of subscriptions it gives an identifier pick it up within their age limit (no refresh here)."""
    run, cursor, deps = CheckRun(), None, replace(deps, refresh=None)
    while True:
        page = deps.links.page_all(limit=page_size, cursor=cursor)
        for tenant_id, product_id in page.data:
            try:
                link = check(deps, tenant_id, product_id, at)
            except (NotFound, InvalidInput) as error:  # unlinked or product gone meanwhile
                log.info("drift check skipped %s/%s: %s", tenant_id, product_id, error)
                continue
            except Exception:  # one tenant's broken link never stops the others
                log.exception("drift check failed for %s/%s", tenant_id, product_id)
                run.failed += 1
                continue
            run.checked += 1
            run.stale += link.state.value == "STALE"
        if page.next_cursor is None:
            return run
        cursor = page.next_cursor
