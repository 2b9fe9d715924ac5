"""Delivering webhooks: fan an event out to the endpoints that want it (one queue message per endpoint),
then make each attempt and decide what follows (the schedule in ``tollgate.domain.webhooks.schedule``).

Each (event, endpoint) pair is its own message, so a failing endpoint's retries wait in the queue
(delayed messages) and never hold up another endpoint's or tenant's deliveries. A duplicate message
(SQS delivers at least once) finds its attempt recorded already and does nothing.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tollgate.domain.clock import to_rfc3339, utcnow
from tollgate.domain.event_types import WebhookEndpointDisabledData
from tollgate.domain.events import DomainEvent
from tollgate.domain.webhooks import schedule
from tollgate.domain.webhooks.deliveries import MAX_RESPONSE_BODY, Attempt, Delivery, DeliveryStatus, Task
from tollgate.domain.webhooks.endpoints import WebhookEndpoint
from tollgate.domain.webhooks.signing import signature_headers
from tollgate.domain.webhooks.urls import Resolver, vetted_address
from tollgate.ports.webhooks import DeliveryQueue, HttpAnswer, WebhookRepository, WebhookSender

if TYPE_CHECKING:  # the billing ports import the billing domain: not on the delivery path
    from tollgate.ports.billing import BillingSettingsRepository, Mailer

MAX_QUEUE_DELAY = 900  # seconds: SQS delays a message at most 15 minutes; longer waits hop
USER_AGENT = "Tollgate-Webhooks/1"


@dataclass
class WebhookDeps:
    repo: WebhookRepository
    queue: DeliveryQueue
    sender: WebhookSender
    mailer: Mailer | None = None
    billing_settings: BillingSettingsRepository | None = None
    clock: Callable[[], datetime] = utcnow
    #: Compresses the retry schedule (1.0 on AWS; the local stack and tests use less).
    retry_scale: float = 1.0
    allow_private_urls: bool = False
    resolve: Resolver = field(default=lambda host: ())
    rng: random.Random = field(default_factory=random.Random)


def enqueue(deps: WebhookDeps, task: Task, now: datetime) -> None:
    wait = max((task.not_before - now).total_seconds(), 0)
    deps.queue.send(task.to_json(), delay_seconds=min(int(wait + 0.999), MAX_QUEUE_DELAY))


def fan_out(deps: WebhookDeps, event: DomainEvent) -> int:
    """One delivery per endpoint of the event's tenant that wants its type; returns how many were queued."""
    now = deps.clock()
    queued = 0
    after: str | None = None
    while True:
        endpoints, after = deps.repo.list_endpoints(event.tenant_id, limit=100, after=after)
        for endpoint in endpoints:
            if endpoint.wants(event.type):
                queued += start(deps, Delivery.of(event, endpoint.endpoint_id, now), now)
        if after is None:
            return queued


def start(deps: WebhookDeps, delivery: Delivery, now: datetime) -> int:
    stored = deps.repo.create_delivery(delivery)
    if stored.attempts or stored.status != DeliveryStatus.PENDING:
        return 0  # this event reached this endpoint already (a redelivered event)
    enqueue(deps, Task(stored.tenant_id, stored.delivery_id, 1, now), now)
    return 1


def attempt(deps: WebhookDeps, task: Task) -> str:
    """Make the attempt ``task`` names (or requeue it when not yet due); returns what happened."""
    now = deps.clock()
    if task.not_before > now + timedelta(seconds=1):
        enqueue(deps, task, now)
        return "not_due"
    delivery = deps.repo.get_delivery(task.tenant_id, task.delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING or delivery.attempts != task.attempt - 1:
        return "duplicate"
    endpoint = deps.repo.get_endpoint(task.tenant_id, delivery.endpoint_id)
    if endpoint is None or endpoint.disabled:
        reason = "the endpoint was deleted" if endpoint is None else "the endpoint is disabled"
        answer = HttpAnswer(None, "", 0, error=f"Not sent: {reason}.")
        _record(deps, delivery, task, answer, now, schedule.Verdict(schedule.Outcome.FAILED))
        return "skipped"
    answer = _send(deps, endpoint, delivery, now)
    failing_since = None
    if not schedule.succeeded(answer.status):
        failing_since = deps.repo.mark_failing(endpoint.tenant_id, endpoint.endpoint_id, now)
    elif endpoint.failing_since is not None:
        deps.repo.clear_failing(endpoint.tenant_id, endpoint.endpoint_id)
    verdict = schedule.judge(
        status=answer.status,
        attempt=task.attempt,
        manual=task.manual,
        failing_since=failing_since,
        now=now,
        retry_after_header=answer.retry_after,
        scale=deps.retry_scale,
        rng=deps.rng,
    )
    if _record(deps, delivery, task, answer, now, verdict) and verdict.disable_reason:
        disable(deps, endpoint, verdict.disable_reason, now)
    return verdict.outcome


def _send(deps: WebhookDeps, endpoint: WebhookEndpoint, delivery: Delivery, now: datetime) -> HttpAnswer:
    from tollgate.domain.errors import InvalidInput

    try:  # resolved again at every attempt, and the connection goes to the address checked here
        address = vetted_address(endpoint.url, allow_private=deps.allow_private_urls, resolve=deps.resolve)
    except InvalidInput as exc:  # the name now resolves somewhere it must not
        return HttpAnswer(None, "", 0, error=f"Not sent: {exc.detail}")
    headers = signature_headers(delivery.message_id, delivery.body, endpoint.signing_secrets(now), now)
    headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
    return deps.sender.post(endpoint.url, delivery.body.encode(), headers, connect_to=address)


def _record(
    deps: WebhookDeps, delivery: Delivery, task: Task, answer: HttpAnswer, now: datetime, verdict: schedule.Verdict
) -> bool:
    next_at = now + verdict.next_attempt_in if verdict.next_attempt_in is not None else None
    status = {
        schedule.Outcome.SUCCEEDED: DeliveryStatus.SUCCEEDED,
        schedule.Outcome.RETRYING: DeliveryStatus.PENDING,
    }.get(verdict.outcome, DeliveryStatus.FAILED)
    after = replace(
        delivery, status=status, attempts=task.attempt, last_status_code=answer.status, next_attempt_at=next_at
    )
    log = Attempt(
        tenant_id=delivery.tenant_id,
        endpoint_id=delivery.endpoint_id,
        delivery_id=delivery.delivery_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        number=task.attempt,
        attempted_at=now,
        status_code=answer.status,
        latency_ms=answer.latency_ms,
        response_body=answer.body[:MAX_RESPONSE_BODY],
        error=answer.error,
        succeeded=verdict.outcome == schedule.Outcome.SUCCEEDED,
        next_attempt_at=next_at,
        manual=task.manual,
    )
    if not deps.repo.record_attempt(after, log):
        return False  # another worker recorded this attempt
    if next_at is not None:
        enqueue(deps, Task(delivery.tenant_id, delivery.delivery_id, task.attempt + 1, next_at), now)
    return True


def disable(deps: WebhookDeps, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Disable the endpoint with a ``webhook_endpoint.disabled`` event, and tell the tenant by email."""
    data: WebhookEndpointDisabledData = {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url, "reason": reason}
    event = DomainEvent("webhook_endpoint.disabled", endpoint.tenant_id, now, {**data}).with_id(
        endpoint.endpoint_id, "disabled", to_rfc3339(now)
    )
    if deps.repo.disable_endpoint(endpoint.tenant_id, endpoint.endpoint_id, reason, now, [event]):
        _email(deps, endpoint, reason)


def _email(deps: WebhookDeps, endpoint: WebhookEndpoint, reason: str) -> None:
    from tollgate.ports.billing import MailRejected

    if deps.mailer is None or deps.billing_settings is None:
        return
    sender = deps.billing_settings.get_settings(endpoint.tenant_id).sender_email
    if not sender:
        return  # no address to write to: the event and GET /v1/webhook-endpoints/{endpoint_id} say it
    text = (
        f"Tollgate disabled your webhook endpoint {endpoint.endpoint_id} ({endpoint.url}).\n\n"
        f"Reason: {reason}\n\n"
        "Fix the receiver, then enable the endpoint again and replay what failed:\n"
        f'PATCH /v1/webhook-endpoints/{endpoint.endpoint_id} with {{"disabled": false}}\n'
        f"POST /v1/webhook-endpoints/{endpoint.endpoint_id}/replay (body: since)\n"
    )
    with contextlib.suppress(MailRejected):  # the webhook_endpoint.disabled event is the record
        deps.mailer.send(sender=sender, to=sender, subject="Your Tollgate webhook endpoint was disabled", text=text)
