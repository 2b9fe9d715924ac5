"""Webhook endpoints (create, read, list, update, delete, rotate the secret) and their delivery log
(list attempts, resend one delivery, replay what failed since a time, send a test event)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tollgate.domain.catalog.common import is_identifier, shown, string_metadata
from tollgate.domain.errors import Conflict, InvalidInput, NotFound
from tollgate.domain.event_types import BY_NAME, WebhookTestData
from tollgate.domain.events import DomainEvent
from tollgate.domain.ids import new_id
from tollgate.domain.paging import Page
from tollgate.domain.retry import retry_on_conflict
from tollgate.domain.webhooks.deliveries import Attempt, Delivery, DeliveryStatus, Task
from tollgate.domain.webhooks.endpoints import (
    MAX_ENDPOINTS_PER_TENANT,
    WebhookEndpoint,
    new_secret,
    validate_enabled_events,
    validate_overlap,
)
from tollgate.domain.webhooks.urls import check_url
from tollgate.usecases.webhook_delivery import WebhookDeps, enqueue, start

MAX_REPLAY = 500  # deliveries per replay request (replay again for more)
MAX_REPLAY_WINDOW = timedelta(days=30)


def _known_types() -> set[str]:
    return set(BY_NAME)


def create_endpoint(deps: WebhookDeps, tenant_id: str, data: dict[str, Any]) -> WebhookEndpoint:
    existing, _ = deps.repo.list_endpoints(tenant_id, limit=MAX_ENDPOINTS_PER_TENANT, after=None)
    if len(existing) >= MAX_ENDPOINTS_PER_TENANT:
        raise Conflict(
            f"A tenant has at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints: delete one "
            "(DELETE /v1/webhook-endpoints/{endpoint_id}) or subscribe an existing one to more event types.",
            code="WEBHOOK_ENDPOINT_LIMIT",
        )
    now = deps.clock()
    endpoint = WebhookEndpoint(
        endpoint_id=new_id("we"),
        tenant_id=tenant_id,
        url=check_url(data["url"], allow_private=deps.allow_private_urls, resolve=deps.resolve),
        secret=new_secret(),
        created_at=now,
        updated_at=now,
        description=data.get("description") or "",
        enabled_events=validate_enabled_events(list(data.get("enabled_events") or ["*"]), _known_types()),
        disabled=bool(data.get("disabled", False)),
        metadata=string_metadata(data.get("metadata")),
    )
    deps.repo.create_endpoint(endpoint)
    return endpoint


def get_endpoint(deps: WebhookDeps, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = deps.repo.get_endpoint(tenant_id, endpoint_id) if is_identifier(endpoint_id) else None
    if endpoint is None:
        raise NotFound(
            f"Webhook endpoint not found: {shown(endpoint_id)}. List them with GET /v1/webhook-endpoints.",
            code="WEBHOOK_ENDPOINT_NOT_FOUND",
        )
    return endpoint


def page_endpoints(deps: WebhookDeps, tenant_id: str, *, limit: int, cursor: str | None) -> Page[WebhookEndpoint]:
    return deps.repo.page_endpoints(tenant_id, limit=limit, cursor=cursor)


def update_endpoint(deps: WebhookDeps, tenant_id: str, endpoint_id: str, changes: dict[str, Any]) -> WebhookEndpoint:
    def once() -> WebhookEndpoint:
        before = get_endpoint(deps, tenant_id, endpoint_id)
        after = _patched(deps, before, changes)
        deps.repo.save_endpoint(before, after)
        return after

    return retry_on_conflict(once, exhausted=f"Webhook endpoint {endpoint_id} kept changing; retry.")


def _patched(deps: WebhookDeps, before: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    after = replace(before, updated_at=deps.clock(), version=before.version + 1)
    if changes.get("url") is not None:
        url = check_url(changes["url"], allow_private=deps.allow_private_urls, resolve=deps.resolve)
        after = replace(after, url=url)
    if changes.get("description") is not None:
        after = replace(after, description=changes["description"])
    if changes.get("enabled_events") is not None:
        after = replace(after, enabled_events=validate_enabled_events(list(changes["enabled_events"]), _known_types()))
    if changes.get("disabled") is not None:
        enabled_again = before.disabled and not changes["disabled"]
        after = replace(
            after,
            disabled=bool(changes["disabled"]),
            disabled_reason=None if not changes["disabled"] else "Disabled by you.",
            failing_since=None if enabled_again else after.failing_since,
        )
    if changes.get("metadata") is not None:
        metadata = dict(before.metadata)
        metadata.update(string_metadata({k: v for k, v in changes["metadata"].items() if v is not None}))
        for key in [k for k, v in changes["metadata"].items() if v is None]:
            metadata.pop(key, None)
        after = replace(after, metadata=metadata)
    return after


def delete_endpoint(deps: WebhookDeps, tenant_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = get_endpoint(deps, tenant_id, endpoint_id)
    deps.repo.delete_endpoint(endpoint)
    return endpoint


def rotate_secret(deps: WebhookDeps, tenant_id: str, endpoint_id: str, overlap_seconds: int | None) -> WebhookEndpoint:
    """A new secret signs from now on; the previous one also signs for ``overlap_seconds`` (default 24 h)."""
    overlap = validate_overlap(overlap_seconds)

    def once() -> WebhookEndpoint:
        before = get_endpoint(deps, tenant_id, endpoint_id)
        after = before.rotated(deps.clock(), overlap)
        deps.repo.save_endpoint(before, after)
        return after

    return retry_on_conflict(once, exhausted=f"Webhook endpoint {endpoint_id} kept changing; retry.")


def page_attempts(
    deps: WebhookDeps, tenant_id: str, endpoint_id: str, *, limit: int, cursor: str | None
) -> Page[Attempt]:
    get_endpoint(deps, tenant_id, endpoint_id)
    return deps.repo.page_attempts(tenant_id, endpoint_id, limit=limit, cursor=cursor)


def list_attempts(
    deps: WebhookDeps, tenant_id: str, endpoint_id: str, *, limit: int, after: str | None
) -> tuple[list[Attempt], str | None]:
    get_endpoint(deps, tenant_id, endpoint_id)
    return deps.repo.list_attempts(tenant_id, endpoint_id, limit=limit, after=after)


def get_delivery(deps: WebhookDeps, tenant_id: str, delivery_id: str) -> Delivery:
    delivery = deps.repo.get_delivery(tenant_id, delivery_id) if is_identifier(delivery_id) else None
    if delivery is None:
        raise NotFound(
            f"Webhook delivery not found: {shown(delivery_id)}. "
            "GET /v1/webhook-endpoints/{endpoint_id}/deliveries lists an endpoint's deliveries.",
            code="WEBHOOK_DELIVERY_NOT_FOUND",
        )
    return delivery


def resend(deps: WebhookDeps, tenant_id: str, delivery_id: str) -> Delivery:
    """One more attempt of a finished delivery, now (same ``webhook-id``; no automatic retries after it)."""
    delivery = get_delivery(deps, tenant_id, delivery_id)
    endpoint = get_endpoint(deps, tenant_id, delivery.endpoint_id)
    if endpoint.disabled:
        raise Conflict(
            f"Webhook endpoint {endpoint.endpoint_id} is disabled: enable it first "
            '(PATCH /v1/webhook-endpoints/{endpoint_id} with {"disabled": false}).',
            code="WEBHOOK_ENDPOINT_DISABLED",
        )
    if not deps.repo.reopen(delivery):
        raise Conflict(
            f"Delivery {delivery_id} is still being attempted (next attempt at {delivery.next_attempt_at}); "
            "resend it once it has succeeded or failed.",
            code="WEBHOOK_DELIVERY_IN_PROGRESS",
        )
    now = deps.clock()
    enqueue(deps, Task(tenant_id, delivery_id, delivery.attempts + 1, now, manual=True), now)
    return replace(delivery, status=DeliveryStatus.PENDING)


def replay(deps: WebhookDeps, tenant_id: str, endpoint_id: str, since: datetime) -> list[str]:
    """Resend every delivery of the endpoint that failed, created since ``since`` (at most 500 a call;
    call again for more: what was replayed is pending or succeeded by then, so it is not picked twice)."""
    now = deps.clock()
    if since > now or now - since > MAX_REPLAY_WINDOW:
        raise InvalidInput("since must be in the last 30 days (RFC 3339, e.g. 2026-01-31T00:00:00Z).", field="since")
    endpoint = get_endpoint(deps, tenant_id, endpoint_id)
    if endpoint.disabled:
        raise Conflict(
            f"Webhook endpoint {endpoint_id} is disabled: enable it first "
            '(PATCH /v1/webhook-endpoints/{endpoint_id} with {"disabled": false}).',
            code="WEBHOOK_ENDPOINT_DISABLED",
        )
    replayed = []
    for delivery_id in deps.repo.failed_since(tenant_id, endpoint_id, since, limit=MAX_REPLAY):
        delivery = deps.repo.get_delivery(tenant_id, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.FAILED or not deps.repo.reopen(delivery):
            continue  # resent and succeeded meanwhile, or in flight
        enqueue(deps, Task(tenant_id, delivery_id, delivery.attempts + 1, now, manual=True), now)
        replayed.append(delivery_id)
    return replayed


def send_test(deps: WebhookDeps, tenant_id: str, endpoint_id: str) -> Delivery:
    """Deliver a ``webhook.test`` event to the endpoint (whatever types it subscribes to)."""
    endpoint = get_endpoint(deps, tenant_id, endpoint_id)
    now = deps.clock()
    data: WebhookTestData = {"endpoint_id": endpoint.endpoint_id, "message": "This is a test event from Tollgate."}
    event = DomainEvent("webhook.test", tenant_id, now, {**data}).with_id(endpoint_id, "test", new_id("t"))
    delivery = Delivery.of(event, endpoint_id, now)
    start(deps, delivery, now)
    return delivery
