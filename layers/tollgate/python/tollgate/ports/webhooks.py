"""Ports of outbound webhooks: endpoints and deliveries storage, the delivery queue, the HTTP sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tollgate.domain.events import DomainEvent
from tollgate.domain.paging import Page
from tollgate.domain.webhooks.deliveries import Attempt, Delivery
from tollgate.domain.webhooks.endpoints import WebhookEndpoint


class WebhookRepository(Protocol):
    def create_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    def list_endpoints(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]: ...

    def page_endpoints(self, tenant_id: str, *, limit: int, cursor: str | None = None) -> Page[WebhookEndpoint]: ...

    def save_endpoint(self, before: WebhookEndpoint, after: WebhookEndpoint) -> None:
        """Conditional on ``before.version`` (ConcurrentUpdate when it changed)."""
        ...

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def disable_endpoint(
        self, tenant_id: str, endpoint_id: str, reason: str, at: datetime, events: list[DomainEvent]
    ) -> bool:
        """Disable it (once: False when it already was) and record ``events`` in the same write."""
        ...

    def mark_failing(self, tenant_id: str, endpoint_id: str, at: datetime) -> datetime:
        """Set ``failing_since`` unless set; returns its value."""
        ...

    def clear_failing(self, tenant_id: str, endpoint_id: str) -> None: ...

    def create_delivery(self, delivery: Delivery) -> Delivery:
        """Store it unless it exists; returns what is stored."""
        ...

    def get_delivery(self, tenant_id: str, delivery_id: str) -> Delivery | None: ...

    def record_attempt(self, delivery: Delivery, attempt: Attempt) -> bool:
        """Log ``attempt`` and store ``delivery`` as it stands after it, conditional on the stored
        delivery having ``attempt.number - 1`` attempts and being pending (False: a duplicate)."""
        ...

    def reopen(self, delivery: Delivery) -> bool:
        """Set a finished delivery pending again (for a resend); False when it is pending already."""
        ...

    def list_attempts(
        self, tenant_id: str, endpoint_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Attempt], str | None]: ...

    def page_attempts(
        self, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[Attempt]: ...

    def failed_since(self, tenant_id: str, endpoint_id: str, since: datetime, *, limit: int) -> list[str]:
        """Ids of the endpoint's deliveries that failed, created since ``since`` (oldest first)."""
        ...


class DeliveryQueue(Protocol):
    def send(self, body: dict, *, delay_seconds: int) -> None: ...


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: no answer (timeout, refused, DNS, TLS)
    body: str
    latency_ms: int
    retry_after: str | None = None
    error: str | None = None


class WebhookSender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], *, connect_to: str | None = None) -> HttpAnswer:
        """POST to ``url``; with ``connect_to``, connect to that address (TLS still checks the URL's host name)."""
        ...
