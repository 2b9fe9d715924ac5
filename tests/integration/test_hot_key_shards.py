"""Hot keys are sharded (issue 16) and their readers stay exact on moto: the sharded ingestion rate limit
admits exactly its limit (a refused shard passes the request to another one) and then refuses without a
write; another tenant is unaffected; the subscription clock's due moves and the bill run's due index are
read across every shard in due order."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from tollgate import wiring
from tollgate.adapters.dynamodb.keys import due_transition_key, due_transition_marker
from tollgate.adapters.dynamodb.usage import DynamoRateLimiter, rate_shards
from tollgate.settings import get_settings


def test_a_sharded_rate_limit_admits_exactly_its_limit_then_refuses_without_writing(local_stack):
    limiter = DynamoRateLimiter(get_settings().usage_table)
    assert rate_shards(10, 10) == 1 and rate_shards(20_000, 10_000) == 16 and rate_shards(1000, 1000) == 2
    window = 1_700_000_000
    taken = [limiter.take("ten_shardA", "k1", 100, window, 1000, 1000, 1) for _ in range(10)]
    assert taken == [None] * 10
    assert limiter.take("ten_shardA", "k1", 100, window, 1000, 1000, 1) == "tenant"
    calls: Counter[str] = Counter()

    def count(**kwargs) -> None:
        calls["update"] += 1

    client = limiter_client()
    client.meta.events.register("before-call.dynamodb.UpdateItem", count)
    try:
        assert limiter.take("ten_shardA", "k2", 100, window, 1000, 1000, 1) == "tenant"
        assert calls["update"] == 0  # every shard is known to be full this window
        assert limiter.take("ten_shardB", "k9", 100, window, 1000, 1000, 1) is None  # another tenant
        assert limiter.take("ten_shardA", "k1", 100, window + 1, 1000, 1000, 1) is None  # the next second
    finally:
        client.meta.events.unregister("before-call.dynamodb.UpdateItem", count)


def limiter_client():
    from tollgate.adapters import aws

    return aws.client("dynamodb")


def test_the_clock_reads_due_moves_of_every_shard_in_due_order(local_stack):
    table = wiring.subscription_repository()._table
    base = datetime(2001, 1, 1, tzinfo=UTC)  # before anything the other tests schedule
    markers = [due_transition_marker(base + timedelta(minutes=n), f"ten_c{n}", f"sub_{n}", "CANCEL") for n in range(40)]
    assert len({due_transition_key(m)["pk"] for m in markers}) > 8
    with local_stack.exclusive():
        for m in markers:
            table.put_item(Item={**due_transition_key(m), "item_type": "DUE_TRANSITION"})
        try:
            due = wiring.subscription_repository().due_transitions(base + timedelta(minutes=29), limit=25)
            assert [d[0] for d in due] == markers[:25]
        finally:
            for m in markers:
                table.delete_item(Key=due_transition_key(m))
