"""Webhook delivery on moto's DynamoDB with a scripted receiver and a clock the test moves: the retry
schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, with jitter), Retry-After, the same
webhook-id on every attempt, 410 disabling at once, and 5 days of failures disabling with a
webhook_endpoint.disabled event and an email to the tenant's sender address."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from tests.fakes.webhooks import CapturingMailer, ListQueue, MovingClock, ScriptedReceiver
from tollgate import wiring
from tollgate.adapters.dynamodb.webhooks import DynamoWebhookRepository
from tollgate.domain.billing.settings import BillingSettings
from tollgate.domain.errors import Conflict, InvalidInput
from tollgate.domain.events import DomainEvent
from tollgate.domain.webhooks.deliveries import Task
from tollgate.domain.webhooks.schedule import DELAYS
from tollgate.settings import get_settings
from tollgate.usecases import webhook_delivery, webhooks


class Settings:
    def get_settings(self, tenant_id: str) -> BillingSettings:
        return BillingSettings(tenant_id=tenant_id, sender_email="billing@tenant.example")


def _deps(script, clock):
    return webhook_delivery.WebhookDeps(
        repo=DynamoWebhookRepository(get_settings().main_table),
        queue=ListQueue(),
        sender=ScriptedReceiver(script),
        mailer=CapturingMailer(),
        billing_settings=Settings(),  # type: ignore[arg-type]
        clock=clock,
        allow_private_urls=True,
        rng=random.Random(7),
    )


def _run(deps, clock) -> list[Task]:
    """Deliver what is queued, moving the clock to each attempt's time; returns the attempts made."""
    made = []
    while bodies := deps.queue.take():
        for body in bodies:
            if Task.KEY not in body:
                continue
            task = Task.from_json(body)
            clock.now = max(clock.now, task.not_before)
            if webhook_delivery.attempt(deps, task) != "not_due":
                made.append(task)
    return made


@pytest.fixture
def tenant(local_stack):
    return local_stack.bootstrap_tenant("webhook delivery").tenant_id


def _event(tenant_id: str, clock: MovingClock, n: int = 1) -> DomainEvent:
    data = {"customer_id": f"cus_{n}", "external_id": f"ext-{n}"}
    return DomainEvent("customer.created", tenant_id, clock(), data).with_id(f"cus_{n}")


def test_failures_are_retried_on_the_schedule_with_the_same_webhook_id(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(500, {})] * 7 + [(200, {})], clock)
    with local_stack.exclusive():
        endpoint = webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/hook"})
        started = clock()
        assert webhook_delivery.fan_out(deps, _event(tenant, clock)) == 1
        tasks = _run(deps, clock)
        assert [t.attempt for t in tasks] == [1, 2, 3, 4, 5, 6, 7, 8]
        gaps = [b.not_before - a.not_before for a, b in itertools.pairwise(tasks)]
        for gap, expected in zip(gaps, DELAYS[1:], strict=True):
            assert expected * 0.9 <= gap <= expected * 1.1  # the schedule, with jitter
        assert timedelta(hours=24) < tasks[-1].not_before - started < timedelta(hours=31)
        received = deps.sender.received
        assert len({h["webhook-id"] for _, _, h in received}) == 1
        for _, body, headers in received:  # each attempt signed at its own time, verifiable
            sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
            expected = Webhook(endpoint.secret).sign(headers["webhook-id"], sent_at, body.decode())
            assert headers["webhook-signature"] == expected
        log, _ = webhooks.list_attempts(deps, tenant, endpoint.endpoint_id, limit=20, after=None)
        assert [a.status_code for a in log] == [200] + [500] * 7  # newest first
        assert log[0].succeeded and log[1].next_attempt_at is not None
        after = webhooks.get_endpoint(deps, tenant, endpoint.endpoint_id)
        assert after.failing_since is None and not after.disabled


def test_retry_after_on_429_is_honoured(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(429, {"Retry-After": "3600"}), (200, {})], clock)
    with local_stack.exclusive():
        webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/hook"})
        webhook_delivery.fan_out(deps, _event(tenant, clock, 2))
        tasks = _run(deps, clock)
        assert len(tasks) == 2 and tasks[1].not_before - tasks[0].not_before >= timedelta(hours=1)


def test_410_disables_the_endpoint_at_once_with_an_event_and_an_email(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(410, {})], clock)
    with local_stack.exclusive():
        endpoint = webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/gone"})
        webhook_delivery.fan_out(deps, _event(tenant, clock, 3))
        assert len(_run(deps, clock)) == 1
        after = webhooks.get_endpoint(deps, tenant, endpoint.endpoint_id)
        assert after.disabled and "410" in (after.disabled_reason or "")
        assert deps.mailer.sent[0]["to"] == "billing@tenant.example"
        assert endpoint.endpoint_id in deps.mailer.sent[0]["text"]
        outbox = _outbox_types(tenant)
        assert "webhook_endpoint.disabled" in outbox
        webhook_delivery.fan_out(deps, _event(tenant, clock, 4))  # a disabled endpoint gets nothing
        assert _run(deps, clock) == [] and len(deps.sender.received) == 1


def test_five_days_of_failures_disable_the_endpoint(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(500, {})], clock)
    with local_stack.exclusive():
        endpoint = webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/down"})
        for day in range(6):  # a new event every day; each is retried for about 27 hours, and fails
            webhook_delivery.fan_out(deps, _event(tenant, clock, 100 + day))
            _run(deps, clock)
            if webhooks.get_endpoint(deps, tenant, endpoint.endpoint_id).disabled:
                break
            clock.advance(timedelta(hours=12))
        after = webhooks.get_endpoint(deps, tenant, endpoint.endpoint_id)
        assert after.disabled and "5 days" in (after.disabled_reason or "")
        assert after.failing_since is not None and clock() - after.failing_since >= timedelta(days=5)
        assert len(deps.mailer.sent) == 1 and "disabled" in deps.mailer.sent[0]["subject"]


def _outbox_types(tenant_id: str) -> list[str]:
    from boto3.dynamodb.conditions import Key

    from tollgate.adapters.dynamodb.shards import all_shards

    table = wiring.customer_repository()._table
    items = [
        item
        for pk in all_shards(f"T#{tenant_id}#OUTBOX#00")  # the outbox is spread over 16 keys
        for item in table.query(KeyConditionExpression=Key("pk").eq(pk))["Items"]
    ]
    return [i["event"]["type"] for i in items]


def test_a_redelivered_event_or_attempt_message_sends_nothing_twice(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(200, {})], clock)
    with local_stack.exclusive():
        webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/once"})
        event = _event(tenant, clock, 7)
        assert webhook_delivery.fan_out(deps, event) == 1
        (task_body,) = deps.queue.take()
        task = Task.from_json(task_body)
        assert webhook_delivery.attempt(deps, task) == "succeeded"
        assert webhook_delivery.attempt(deps, task) == "duplicate"  # SQS delivered the message twice
        assert webhook_delivery.fan_out(deps, event) == 0  # the rule's message came twice
        assert deps.queue.take() == [] and len(deps.sender.received) == 1
        delivery = deps.repo.get_delivery(tenant, task.delivery_id)
        assert delivery.status == "succeeded" and delivery.attempts == 1
        webhooks.resend(deps, tenant, task.delivery_id)
        with pytest.raises(Conflict, match="still being attempted"):  # a second resend while one is queued
            webhooks.resend(deps, tenant, task.delivery_id)


def test_during_a_rotation_both_secrets_sign_then_only_the_new_one(local_stack, tenant):
    clock = MovingClock()
    deps = _deps([(200, {})], clock)
    with local_stack.exclusive():
        old = webhooks.create_endpoint(deps, tenant, {"url": "http://127.0.0.1:9/rotate"})
        new = webhooks.rotate_secret(deps, tenant, old.endpoint_id, 3600)
        assert new.secret != old.secret and new.previous_secret_expires_at == clock() + timedelta(hours=1)
        webhook_delivery.fan_out(deps, _event(tenant, clock, 8))
        _run(deps, clock)
        _, body, headers = deps.sender.received[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        sent_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)  # the test's clock, not now
        for secret in (old.secret, new.secret):
            expected = Webhook(secret).sign(headers["webhook-id"], sent_at, body.decode())
            assert expected in headers["webhook-signature"].split(" ")
        clock.advance(timedelta(hours=1))
        webhook_delivery.fan_out(deps, _event(tenant, clock, 9))
        _run(deps, clock)
        _, _, headers = deps.sender.received[-1]
        assert len(headers["webhook-signature"].split(" ")) == 1
        with pytest.raises(InvalidInput):
            webhooks.rotate_secret(deps, tenant, old.endpoint_id, 8 * 86400)
