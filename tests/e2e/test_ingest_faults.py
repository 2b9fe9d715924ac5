"""Fault injection: 20,000 events sent in batches of 1000 while 10% of the DynamoDB and EventBridge calls of
the functions fail, and the client retries like a client should (on 5xx and 429, and sometimes even after a
202 whose answer it pretends to have lost). Aggregated usage must be exactly what was sent: no event lost,
none counted twice.

Faults are injected with botocore event hooks on the clients the functions use (``tollgate.adapters.aws``):
- half are throttles/500s answered *before* the call reaches DynamoDB/EventBridge (``before-call``: not
  executed; botocore does not retry these, so the application's own retries and the client's are tested);
- half are 500s answered *after* moto executed the call (``before-send`` registered first: the write
  happened but its answer is lost; botocore retries, so every write must be idempotent on replay).
The local stack's own pollers (Lambda's event source mappings on AWS) are not faulted.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from infra.local import lambda_dispatch
from tests.e2e.ingest_kit import dumps, fresh_tenant, unique

pytestmark = pytest.mark.e2e

EVENTS = 20_000
BATCH = 1000
FAULT_RATE = 0.10
CUSTOMERS = 5


class Faults:
    def __init__(self, rate: float, seed: int = 8) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def _error(self, service: str, status: int):
        throttle = status == 400
        if service == "dynamodb":
            code = "ThrottlingException" if throttle else "InternalServerError"
        else:
            code = "ThrottlingException" if throttle else "InternalException"
        return code

    def before_call(self, model, **kwargs):
        from botocore.awsrequest import AWSResponse

        service = model.service_model.service_name
        self.calls[service] += 1
        # While faults are on, the first EventBridge call always fails (so both services see faults
        # whatever the random draws); after that, the rate decides.
        first_events_call = (
            service == "events" and self.rate > 0 and not any(k.startswith("events:") for k in self.injected)
        )
        if not first_events_call and self.rng.random() >= self.rate / 2:
            return None
        status = self.rng.choice((400, 500))
        code = self._error(service, status)
        self.injected[f"{service}:before:{code}"] += 1
        parsed = {"Error": {"Code": code, "Message": "injected fault"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://injected", status, {}, None), parsed

    def before_send(self, request, **kwargs):
        from botocore.awsrequest import AWSResponse

        if self.rng.random() >= self.rate / 2:
            return None
        service = "events" if "events." in request.url else "dynamodb"
        self.injected[f"{service}:lost:500"] += 1
        body = b'{"__type": "InternalServerError", "message": "injected: the call ran, its answer was lost"}'
        return AWSResponse(request.url, 500, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

    def install(self, client) -> None:
        service = client.meta.service_model.service_name
        if service not in ("dynamodb", "events") or getattr(client, "_tollgate_faults", False):
            return
        client.meta.events.register(f"before-call.{client.meta.service_model.service_id.hyphenize()}", self.before_call)
        client.meta.events.register_first(
            f"before-send.{client.meta.service_model.service_id.hyphenize()}", self.before_send
        )
        client._tollgate_faults = True


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs):
        yield self.body


@pytest.fixture
def faults(monkeypatch):
    from tollgate.adapters import aws

    injector = Faults(0.0)  # the test turns the faults on once its setup is done
    original_client, original_table = aws.client, aws.table

    def client(service: str):
        c = original_client(service)
        injector.install(c)
        return c

    def table(name: str):
        t = original_table(name)
        injector.install(t.meta.client)
        return t

    with lambda_dispatch.LOCK:
        aws.client.cache_clear()
        aws.table.cache_clear()
        monkeypatch.setattr(aws, "client", client)
        monkeypatch.setattr(aws, "table", table)
    yield injector
    with lambda_dispatch.LOCK:
        monkeypatch.undo()
        aws.client.cache_clear()
        aws.table.cache_clear()


@pytest.mark.timeout(900)
def test_20000_events_with_10_percent_of_aws_calls_failing_are_counted_exactly_once(server, faults):
    t = fresh_tenant(server, "faults")
    ok_limits = t.owner.put(
        "/v1/ingest/settings", json={"rate_limit_per_second": 100_000, "key_rate_limit_per_second": 100_000}
    )
    assert ok_limits.status_code == 200
    meter = t.meter(function="SUM", field="properties.n")
    customers = [t.customer()["external_id"] for _ in range(CUSTOMERS)]
    rng = random.Random(2026)
    expected: Counter[str] = Counter()
    batches = []
    for _start in range(0, EVENTS, BATCH):
        batch = []
        for _ in range(BATCH):
            cust, n = rng.choice(customers), rng.randint(1, 9)
            expected[cust] += n
            batch.append(
                {
                    "event_id": unique("e"),
                    "event_name": meter["event_name"],
                    "external_customer_id": cust,
                    "properties": {"n": n},
                }
            )
        batches.append(batch)

    faults.rate = FAULT_RATE
    attempts, resent_after_202, started = Counter(), 0, time.monotonic()
    stored = 0
    for number, batch in enumerate(batches):
        body, delay = dumps({"events": batch}), 0.05
        while True:
            attempts[number] += 1
            r = t.owner.post(
                "/v1/ingest/events", content=body, headers={"Content-Type": "application/json"}, timeout=120
            )
            if r.status_code == 202:
                answer = r.json()
                assert answer["rejected"] == [] and answer["accepted"] + answer["duplicates"] == BATCH, answer
                if rng.random() < 0.2:  # the client "timed out" on this one: it sends the batch again
                    resent_after_202 += 1
                    continue
                stored += BATCH
                break
            assert r.status_code in (429, 500, 503), r.text
            time.sleep(float(r.headers.get("Retry-After", 0)) or delay)
            delay = min(delay * 2, 1.0)
    sent_seconds = time.monotonic() - started

    def totals():
        from tollgate import wiring

        with lambda_dispatch.LOCK:
            tenant_id = t.tenant_id
            meter_id = meter["id"]
            out = {}
            for cust in customers:
                customer = wiring.customer_repository().get_by_external_id(tenant_id, cust)
                buckets = wiring.usage_store().buckets(
                    tenant_id, customer.customer_id, meter_id, "2000-01-01T00", "2999-01-01T00"
                )
                out[cust] = (sum(b.count for b in buckets), sum((b.total for b in buckets), Decimal(0)))
            return out

    deadline = time.monotonic() + 300
    while True:
        try:
            now = totals()
        except Exception:  # an injected fault hit the check itself: look again
            now = None
        if now and sum(c for c, _ in now.values()) >= EVENTS:
            break
        assert time.monotonic() < deadline, f"aggregation stalled at {now}"
        time.sleep(0.5)
    aggregated_seconds = time.monotonic() - started
    faults.rate = 0
    assert sum(c for c, _ in now.values()) == EVENTS  # no event lost, none counted twice
    assert {cust: s for cust, (_, s) in now.items()} == {cust: Decimal(v) for cust, v in expected.items()}
    for cust in customers:  # and the public usage query agrees
        assert Decimal(t.usage(cust, meter["event_name"])["value"]) == expected[cust]
    injected = sum(faults.injected.values())
    print(
        f"\n{EVENTS} events in {len(batches)} batches: {sum(attempts.values())} requests "
        f"({resent_after_202} resends after a 202); {injected} faults injected in "
        f"{sum(faults.calls.values())} AWS calls ({dict(faults.injected)}); sent in {sent_seconds:.0f} s, "
        f"aggregated exactly after {aggregated_seconds:.0f} s"
    )
    assert injected > 100 and faults.injected.keys() >= {"dynamodb:lost:500"}
    assert any(k.startswith("events:") for k in faults.injected)
