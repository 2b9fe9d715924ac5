"""Strict mode (issue 15) on moto's DynamoDB, without the local stack's per-function lock: 50 concurrent
callers against a hard limit of 100, three requests each, get exactly 100 grants. Each grant is one
conditional UpdateItem (one write unit); a refusal writes nothing."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

from tollgate import wiring

CALLERS, ATTEMPTS, LIMIT = 50, 3, Decimal(100)


def test_fifty_concurrent_callers_against_a_hard_limit_of_100_get_exactly_100(local_stack):
    store = wiring.gateway_store()
    tenant, sub, period = f"t_{uuid.uuid4().hex[:6]}", "sub_strict", "2026-11-01T00:00:00+00:00"
    granted: list[Decimal] = []
    refused: list[Decimal] = []
    start = threading.Barrier(CALLERS)
    lock = threading.Lock()

    def caller() -> None:
        start.wait()
        for _ in range(ATTEMPTS):
            ok, before = store.take_counter(tenant, sub, "api_requests", period, Decimal(1), LIMIT, Decimal(0))
            with lock:
                (granted if ok else refused).append(before)

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 100 and len(refused) == CALLERS * ATTEMPTS - 100
    ok, before = store.take_counter(tenant, sub, "api_requests", period, Decimal(1), LIMIT, Decimal(0))
    assert (ok, before) == (False, LIMIT)


def test_the_counter_starts_from_the_aggregated_usage_and_an_increment_above_one_counts_whole(local_stack):
    store = wiring.gateway_store()
    tenant = f"t_{uuid.uuid4().hex[:6]}"
    args = (tenant, "sub_seed", "credits", "P1")
    assert store.take_counter(*args, Decimal(10), Decimal(100), Decimal(85)) == (True, Decimal(85))
    assert store.take_counter(*args, Decimal(10), Decimal(100), Decimal(0)) == (False, Decimal(95))
    assert store.take_counter(*args, Decimal(5), Decimal(100), Decimal(0)) == (True, Decimal(95))
    assert store.take_counter(tenant, "sub_seed", "credits", "P2", Decimal(1), Decimal(5), Decimal(5)) == (
        False,
        Decimal(5),
    )


def test_an_increment_is_given_back_once_per_request_id(local_stack):
    store = wiring.gateway_store()
    args = (f"t_{uuid.uuid4().hex[:6]}", "sub_back", "api", "P")
    assert store.give_back_once(*args, Decimal(1), "req-1") is False  # no counter yet: nothing to return
    assert store.take_counter(*args, Decimal(1), Decimal(1), Decimal(0)) == (True, Decimal(0))
    assert store.give_back_once(*args, Decimal(1), "req-1") is True
    assert store.give_back_once(*args, Decimal(1), "req-1") is False
    assert store.take_counter(*args, Decimal(1), Decimal(1), Decimal(0)) == (True, Decimal(0))
