"""Ports for customers and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tollgate.domain.customers import Customer
from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page
from tollgate.domain.subscriptions import Subscription, Transition


class CustomerRepository(Protocol):
    def create(self, customer: Customer, events: list[DomainEvent]) -> None:
        """Conflict CUSTOMER_EXTERNAL_ID_TAKEN if the external id is taken in the tenant."""

    def get(self, tenant_id: str, customer_id: str) -> Customer | None: ...

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Customer | None: ...

    def list_page(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[Customer]:
        """One page of the tenant's customers after ``cursor`` (a ``next_cursor`` of this list)."""

    def update(self, before: Customer, after: Customer, events: list[DomainEvent]) -> None:
        """Write ``after`` if the stored customer still has ``before``'s external id (ConcurrentUpdate
        otherwise); Conflict CUSTOMER_EXTERNAL_ID_TAKEN if the new external id is taken."""

    def delete(self, customer: Customer, events: list[DomainEvent]) -> None:
        """Delete ``customer`` and its external-id guard if it still has the external id it was read with
        (ConcurrentUpdate otherwise)."""

    def set_provider_customer_id(self, tenant_id: str, customer_id: str, provider_customer_id: str) -> None:
        """Record the payment provider's customer id, unless one is already recorded (nothing else changes)."""


class SubscriptionRepository(Protocol):
    def create(self, sub: Subscription, events: list[DomainEvent], history: list[Transition]) -> None: ...

    def get(self, tenant_id: str, subscription_id: str) -> Subscription | None: ...

    def get_many(self, tenant_id: str, subscription_ids: list[str]) -> dict[str, Subscription]:
        """The existing ones, by id (one BatchGetItem per 100)."""

    def get_by_external_id(self, tenant_id: str, external_id: str) -> Subscription | None: ...

    def list_for_customer(self, tenant_id: str, customer_id: str) -> list[Subscription]: ...

    def list_for_tenant(self, tenant_id: str) -> list[Subscription]: ...

    def save(
        self,
        sub: Subscription,
        *,
        expected_version: int,
        events: list[DomainEvent],
        history: list[Transition],
        revoke_keys_reason: str | None = None,
    ) -> Subscription:
        """Write ``sub`` if it is still at ``expected_version`` (Conflict otherwise). With
        ``revoke_keys_reason``, every key bound to it is revoked in the same transaction."""

    def history(self, tenant_id: str, subscription_id: str) -> list[Transition]: ...

    def due_transitions(self, until: datetime, limit: int = 100) -> list[tuple[str, str, str, str]]:
        """(marker, tenant_id, subscription_id, action) whose time has come, across tenants."""

    def list_due(self, tenant_id: str, until: datetime) -> list[str]:
        """Ids of the subscriptions whose next billing period ends at or before ``until``."""

    def discard_due(self, marker: str) -> None:
        """Drop a marker whose move no longer applies."""
