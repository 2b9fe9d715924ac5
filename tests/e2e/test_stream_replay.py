"""No silent loss (issue 16): the usage aggregator fails past its retries on a tenant's batch; the local
event source mapping sends Lambda's on-failure record (metadata only) to the failure queue; later events of
the same bucket are folded (the bucket's watermarks move past the lost records, so re-driving them would be
taken as applied); the operator's replay rebuilds the bucket from the raw events: usage exact. A second
replay, and a replay from the raw events alone (the stream no longer holding the batch), change nothing."""

from __future__ import annotations

import json
import time

import pytest

from infra.local.event_sources import failure_queue_name
from tests.e2e.ingest_kit import event, fresh_tenant, unique


@pytest.fixture
def failing_aggregator(monkeypatch):
    """The aggregator raises on every batch holding an event of the tenants in ``failing``."""
    import functions.usage_aggregator.handler as aggregator

    failing: set[str] = set()
    original = aggregator.aggregate

    def aggregate(events, store):
        events = list(events)
        if any(e.tenant_id in failing for e in events):
            raise RuntimeError("forced aggregator failure")
        return original(events, store)

    monkeypatch.setattr(aggregator, "aggregate", aggregate)
    return failing


def _failure_messages(stack, timeout: float = 15.0) -> list[dict]:
    sqs = stack.client("sqs")
    url = stack.resources.stream_failure_queue_urls[failure_queue_name("usage_aggregator", "events")]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        if int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0:
            return [url]
        time.sleep(0.2)
    raise AssertionError("no on-failure record reached the failure queue")


def _replay(url: str) -> dict:
    from functions.stream_replay.handler import lambda_handler

    class Context:
        function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "replay", 1024, "arn", "r1"

    return lambda_handler({"queue_url": url}, Context())


def test_a_batch_lost_by_the_aggregator_is_replayed_and_usage_is_exact(server, failing_aggregator):
    t = fresh_tenant(server, "replay")
    name = unique("replay.usage")
    t.meter(name)
    customer = t.customer()["external_id"]
    failing_aggregator.add(t.tenant_id)
    t.send({"events": [event(customer, name, credits=3) for _ in range(5)]})  # 15 credits, lost
    (url,) = _failure_messages(server.stack)
    record = json.loads(
        server.stack.client("sqs").receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]["Body"]
    )
    info = record["DDBStreamBatchInfo"]
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted" and "Records" not in record
    assert {"shardId", "startSequenceNumber", "endSequenceNumber", "streamArn"} <= set(info)

    failing_aggregator.clear()
    t.send({"events": [event(customer, name, credits=2) for _ in range(4)]})  # 8 credits, folded
    t.wait_usage(customer, name, 8)  # under-billed: the lost batch is missing

    result = _replay(url)
    assert result["failed"] == [] and len(result["replayed"]) >= 1
    assert result["replayed"][0]["source"] == "stream" and result["replayed"][0]["buckets"]
    t.wait_usage(customer, name, 23)

    assert _replay(url) == {"replayed": [], "failed": []}  # the queue is empty: nothing replayed twice
    from tollgate import wiring
    from tollgate.usecases.stream_replay import buckets_received_between, replay_failure

    deps = wiring.replay_deps()
    deps.read_stream = lambda *args: None  # past the stream's 24 h: found through the ingestion index
    events = wiring.usage_event_store()  # (of this tenant only: the session holds hundreds of tenants)
    deps.buckets_received_between = lambda first, last: buckets_received_between([t.tenant_id], events, first, last)
    outcome = replay_failure(deps, record)
    assert outcome.source == "raw events" and outcome.buckets
    t.send({"events": [event(customer, name, credits=1)]})  # folded on top of the rebuilt bucket
    t.wait_usage(customer, name, 24)


@pytest.fixture
def failing_relay(monkeypatch):
    """The outbox relay fails every record of the tenants in ``failing``."""
    import functions.outbox_relay.handler as relay_module

    failing: set[str] = set()
    original = relay_module.relay

    def relay(record):
        image = record.dynamodb.new_image if record.dynamodb else None
        if image and any(t in str(image.get("pk", "")) for t in failing):
            raise RuntimeError("forced relay failure")
        return original(record)

    monkeypatch.setattr(relay_module, "relay", relay)
    return failing


def test_a_domain_event_lost_by_the_outbox_relay_is_published_by_the_replay(server, failing_relay):
    t = fresh_tenant(server, "relay replay")
    sqs = server.stack.client("sqs")
    url = server.stack.resources.stream_failure_queue_urls[failure_queue_name("outbox_relay", "main")]

    def waiting() -> int:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    before = waiting()  # the worker's earlier tests may have left on-failure records of their own
    failing_relay.add(t.tenant_id)
    customer = t.customer()
    deadline = time.monotonic() + 30
    while waiting() <= before:
        assert time.monotonic() < deadline, "no on-failure record for the outbox relay"
        time.sleep(0.2)

    def logged() -> list[dict]:
        events = t.owner.get("/v1/billing-events", params={"type": "customer."}).json()["data"]
        return [e for e in events if e["data"].get("customer_id") == customer["id"]]

    time.sleep(0.5)
    assert logged() == []  # lost: never published (the relay still fails it, should the stream retry it)
    failing_relay.clear()
    result = _replay(url)
    assert result["failed"] == [] and result["replayed"][0]["events_published"] >= 1
    deadline = time.monotonic() + 10
    while not logged():
        assert time.monotonic() < deadline, "the replayed event never reached the event log"
        time.sleep(0.2)
    assert len(logged()) == 1
