"""Fakes for product gateway sync: the link repository, the integrations a link names, and an in-memory
gateway whose state a test can drift by hand (like a tenant editing its gateway)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tollgate.domain.errors import ConcurrentUpdate
from tollgate.domain.events import DomainEvent
from tollgate.domain.integrations.desired import DesiredGateway
from tollgate.domain.integrations.gateway_link import GatewayLink
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import Subscription
from tollgate.ports.gateway_links import GatewayLinkRepository, GatewayProviders, TenantSubscriptions
from tollgate.ports.gateway_providers import ConnectionCheck, GatewayProvider, ProviderFailure


class InMemoryGatewayLinks:
    def __init__(self) -> None:
        self.links: dict[tuple[str, str], GatewayLink] = {}
        self.identifiers: dict[tuple[str, str], dict[str, str]] = {}
        self.events: list[DomainEvent] = []

    def get(self, tenant_id: str, product_id: str) -> GatewayLink | None:
        return self.links.get((tenant_id, product_id))

    def save(self, link: GatewayLink, expected_revision: int | None, events: list[DomainEvent]) -> None:
        stored = self.get(link.tenant_id, link.product_id)
        if (stored is None) != (expected_revision is None) or (stored and stored.revision != expected_revision):
            raise ConcurrentUpdate("the gateway link changed meanwhile")
        self.links[(link.tenant_id, link.product_id)] = link
        self.events.extend(events)

    def delete(self, tenant_id: str, product_id: str) -> None:
        self.links.pop((tenant_id, product_id), None)
        self.identifiers.pop((tenant_id, product_id), None)

    def usage_identifiers(self, tenant_id: str, product_id: str) -> dict[str, str]:
        return dict(self.identifiers.get((tenant_id, product_id), {}))

    def usage_identifier(self, tenant_id: str, product_id: str, subscription_id: str) -> str | None:
        return self.identifiers.get((tenant_id, product_id), {}).get(subscription_id)

    def add_usage_identifiers(self, tenant_id: str, product_id: str, new: Mapping[str, str]) -> dict[str, str]:
        stored = self.identifiers.setdefault((tenant_id, product_id), {})
        for sub, identifier in new.items():
            stored.setdefault(sub, identifier)
        return dict(stored)

    def page_all(self, *, limit: int, cursor: str | None = None) -> Page[tuple[str, str]]:
        keys = sorted(self.links)
        start = int(cursor or 0)
        more = start + limit < len(keys)
        return Page(keys[start : start + limit], str(start + limit) if more else None)


@dataclass
class FakeGateway:
    """A gateway holding one document: ``apply`` writes what ``render`` gives, except what is ``pinned``
    (config the gateway keeps whatever Tollgate pushes, like an extra stage); ``fail`` makes calls fail."""

    state: dict[str, Any] = field(default_factory=dict)
    pinned: dict[str, Any] = field(default_factory=dict)
    fail: ProviderFailure | None = None
    applied: int = 0

    def test_connection(self) -> ConnectionCheck:
        return ConnectionCheck(True) if self.fail is None else self.fail.check()

    def render(self, desired: DesiredGateway) -> dict[str, Any]:
        return {
            "plans": {p.plan_version_id: p.to_json() for p in desired.plans},
            "keys": {k.subscription_id: k.to_json() for k in desired.keys},
        }

    def read(self, desired: DesiredGateway) -> dict[str, Any]:
        self._maybe_fail()
        doc = copy.deepcopy(self.state)
        if self.pinned:
            doc["unmanaged"] = copy.deepcopy(self.pinned)
        return doc

    def apply(self, desired: DesiredGateway) -> None:
        self._maybe_fail()
        self.applied += 1
        self.state = self.render(desired)

    def _maybe_fail(self) -> None:
        if self.fail is not None:
            raise self.fail


@dataclass
class FakeProviders:
    """Integrations by id: ``{"int_1": ("aws_api_gateway", FakeGateway())}`` for one tenant."""

    tenant_id: str
    integrations: dict[str, tuple[str, FakeGateway]] = field(default_factory=dict)

    def integration_type(self, tenant_id: str, integration_id: str) -> str | None:
        found = self.integrations.get(integration_id) if tenant_id == self.tenant_id else None
        return None if found is None else found[0]

    def provider(self, tenant_id: str, integration_id: str) -> GatewayProvider:
        return self.integrations[integration_id][1]


class SubscriptionList:
    """``list_for_tenant`` over a dict (what the sync reads of subscriptions)."""

    def __init__(self) -> None:
        self.items: dict[str, Subscription] = {}

    def list_for_tenant(self, tenant_id: str) -> list[Subscription]:
        return [s for s in self.items.values() if s.tenant_id == tenant_id]


def _typed_against_the_ports() -> tuple[GatewayLinkRepository, GatewayProviders, GatewayProvider, TenantSubscriptions]:
    return InMemoryGatewayLinks(), FakeProviders("t"), FakeGateway(), SubscriptionList()
