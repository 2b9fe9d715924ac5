"""Customers: create, read (by id or external id), list, update, delete (refused while billable).

Times come from the ``clock`` argument (the system clock unless a test or the local stack passes one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from tollgate.domain.catalog.common import EXTERNAL_ID_RULE, is_external_id, is_identifier, shown, string_metadata
from tollgate.domain.clock import utcnow
from tollgate.domain.customers import Customer, validate_customer_fields
from tollgate.domain.errors import Conflict, NotFound
from tollgate.domain.event_types import CustomerData
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.domain.paging import Page
from tollgate.domain.retry import retry_on_conflict
from tollgate.ports.customers import CustomerRepository


class BillableCheck(Protocol):
    """What keeps a customer from being deleted: its live subscriptions and open invoices."""

    def live_subscription_ids(self, tenant_id: str, customer_id: str) -> list[str]: ...

    def open_invoice_ids(self, tenant_id: str, customer_id: str) -> list[str]: ...


Clock = Callable[[], datetime]


def _event(type_: str, c: Customer, at: datetime, *parts: str) -> DomainEvent:
    data: CustomerData = {"customer_id": c.customer_id, "external_id": c.external_id}
    return DomainEvent(type_, c.tenant_id, at, {**data}).with_id(c.customer_id, type_, *parts)


def create_customer(
    repo: CustomerRepository, tenant_id: str, data: dict[str, Any], *, clock: Clock = utcnow
) -> Customer:
    fields: dict[str, Any] = {
        "external_id": data.get("external_id"),
        "name": data.get("name") or "",
        "email": data.get("email"),
        "currency": data.get("currency") or "USD",
        "timezone": data.get("timezone") or "UTC",
        "metadata": string_metadata(data.get("metadata")),
    }
    validate_customer_fields(**fields)
    now = clock()
    customer = Customer(customer_id=new_id("cus"), tenant_id=tenant_id, created_at=now, **fields)
    repo.create(customer, [_event("customer.created", customer, now)])
    return customer


def get_customer(repo: CustomerRepository, tenant_id: str, customer_id: str) -> Customer:
    customer = repo.get(tenant_id, customer_id) if is_identifier(customer_id) else None
    if customer is None:
        raise NotFound(
            f"Customer not found: {shown(customer_id)}. Check the id, and that X-Tenant-Id is the tenant that owns it."
        )
    return customer


def get_customer_by_external_id(repo: CustomerRepository, tenant_id: str, external_id: str) -> Customer:
    if not is_external_id(external_id):
        raise NotFound(f"No customer with external_id {shown(external_id)!r}: external ids are {EXTERNAL_ID_RULE}.")
    customer = repo.get_by_external_id(tenant_id, external_id)
    if customer is None:
        raise NotFound(f"No customer with external_id {external_id!r}. Create it first (POST /v1/customers).")
    return customer


def list_customers(repo: CustomerRepository, tenant_id: str, *, limit: int, cursor: str | None) -> Page[Customer]:
    """One page of the tenant's customers and the cursor of the next page."""
    return repo.list_page(tenant_id, limit=limit, cursor=cursor)


def update_customer(
    repo: CustomerRepository, tenant_id: str, customer_id: str, changes: dict[str, Any], *, clock: Clock = utcnow
) -> Customer:
    """Apply ``changes`` (a PATCH); a lost race with another update is read again and retried."""
    return retry_on_conflict(
        lambda: _update_once(repo, tenant_id, customer_id, changes, clock()),
        exhausted=f"Customer {customer_id} kept changing while it was being updated; retry.",
    )


def _update_once(
    repo: CustomerRepository, tenant_id: str, customer_id: str, changes: dict[str, Any], now: datetime
) -> Customer:
    before = get_customer(repo, tenant_id, customer_id)
    patch = changes.get("metadata") or {}
    metadata = dict(before.metadata)
    metadata.update(string_metadata({k: v for k, v in patch.items() if v is not None}))
    for key in [k for k, v in patch.items() if v is None]:
        metadata.pop(key, None)
    after = replace(
        before,
        external_id=changes.get("external_id") or before.external_id,
        name=changes["name"] if changes.get("name") is not None else before.name,
        email=changes.get("email", before.email),
        currency=changes.get("currency") or before.currency,
        timezone=changes.get("timezone") or before.timezone,
        metadata=metadata,
    )
    validate_customer_fields(
        external_id=after.external_id,
        name=after.name,
        email=after.email,
        currency=after.currency,
        timezone=after.timezone,
        metadata=after.metadata,
    )
    repo.update(before, after, [_event("customer.updated", after, now, now.isoformat())])
    return after


def delete_customer(
    repo: CustomerRepository, billable: BillableCheck, tenant_id: str, customer_id: str, *, clock: Clock = utcnow
) -> Customer:
    """Delete the customer (409 CUSTOMER_HAS_BILLABLES while it has live subscriptions or open invoices);
    a rename racing the delete is read again."""
    return retry_on_conflict(
        lambda: _delete_once(repo, billable, tenant_id, customer_id, clock()),
        exhausted=f"Customer {shown(customer_id)} kept changing while it was being deleted; retry.",
    )


def _delete_once(
    repo: CustomerRepository, billable: BillableCheck, tenant_id: str, customer_id: str, now: datetime
) -> Customer:
    customer = get_customer(repo, tenant_id, customer_id)
    subscriptions = billable.live_subscription_ids(tenant_id, customer_id)
    invoices = billable.open_invoice_ids(tenant_id, customer_id)
    if subscriptions or invoices:
        reasons = []
        if subscriptions:
            reasons.append(
                f"live subscriptions {', '.join(subscriptions)} (cancel them first: DELETE /v1/subscriptions/{{id}})"
            )
        if invoices:
            reasons.append(f"open invoices {', '.join(invoices)} (pay, void or credit them first)")
        raise Conflict(
            f"Customer {customer_id} still has " + " and ".join(reasons) + ".", code="CUSTOMER_HAS_BILLABLES"
        )
    repo.delete(customer, [_event("customer.deleted", customer, now)])
    return customer
