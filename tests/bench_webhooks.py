"""`make bench` section of issue 20: outbound webhooks on the local stack: deliveries per second to one
endpoint, and AWS calls and cost per million deliveries at list prices.

``BENCH_WEBHOOK_DELIVERIES`` events (default 200) are put on the ``webhooks`` queue as the EventBridge
rule would; the local stack's queue poller hands them to ``webhook_delivery`` in batches of 10 (as the
SQS event source does), which fans each out to the tenant's one endpoint and then makes each signed
attempt against a receiver on 127.0.0.1 answering 204. Every AWS call the function makes is counted
(botocore hooks, ``tests.bench_ingest.Meter``) with DynamoDB capacity units by DynamoDB's size rules.
Time is moto's (pure Python) plus a real local HTTP round trip: it is a floor for one endpoint's rate on
this machine, not AWS throughput (on AWS each batch of 10 runs in its own invocation, concurrently).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.bench_ingest import PRICE, PRICES_DATE, Meter, _patch_clients, _unpatch

DELIVERIES = int(os.environ.get("BENCH_WEBHOOK_DELIVERIES", "200"))
#: Lambda duration on AWS is mostly waiting for the receiver: priced at this receiver latency.
RECEIVER_SECONDS = Decimal("0.100")
MEMORY_GB = Decimal("0.5")  # functions.json: webhook_delivery has 512 MB
SQS_BATCH = 10


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def _envelope(tenant_id: str, i: int) -> str:
    from tollgate.domain.events import DomainEvent

    event = DomainEvent(
        "customer.created", tenant_id, datetime.now(UTC), {"customer_id": f"cus_{i}", "external_id": f"ext-{i}"}
    ).with_id(f"bench-{i}")
    return json.dumps({"source": "tollgate", "detail-type": event.type, "detail": event.to_json()})


def webhook_deliveries() -> tuple[str, dict[str, float]]:
    import logging

    from infra.local.stack import LocalStack
    from tollgate import wiring
    from tollgate.usecases import webhooks

    logging.getLogger("tollgate.local").setLevel(logging.CRITICAL)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    stack = LocalStack(run_workers=False).start()
    meter = Meter()
    saved = _patch_clients(meter.install)
    try:
        tenant = stack.bootstrap_tenant("bench webhooks").tenant_id
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        body = {"url": url, "enabled_events": ["customer.created"]}
        endpoint = webhooks.create_endpoint(wiring.webhook_deps(), tenant, body)
        sqs, queue = stack.client("sqs"), stack.queue_urls["webhooks"]
        sqs.send_message(QueueUrl=queue, MessageBody=_envelope(tenant, -1))  # warm: imports, clients, pool
        warm = 0
        while warm < 2:
            warm += stack.poll_queues()
        for i in range(DELIVERIES):
            sqs.send_message(QueueUrl=queue, MessageBody=_envelope(tenant, i))
        meter.calls.clear()
        meter.wru = meter.rru = 0.0
        started = time.perf_counter()
        handled = 0
        while handled < 2 * DELIVERIES:  # each event's fan-out message, then its attempt message
            handled += stack.poll_queues()
        elapsed = time.perf_counter() - started
        log, _ = webhooks.list_attempts(wiring.webhook_deps(), tenant, endpoint.endpoint_id, limit=100, after=None)
        assert log and all(a.status_code == 204 for a in log)
    finally:
        _unpatch(saved)
        stack.stop()
        receiver.shutdown()
    return _section(elapsed, meter)


def _section(elapsed: float, meter: Meter) -> tuple[str, dict[str, float]]:
    n = Decimal(DELIVERIES)
    m = Decimal(1_000_000)
    rate = DELIVERIES / elapsed
    calls = {k: Decimal(v) / n for k, v in sorted(meter.calls.items())}
    wru, rru = Decimal(str(meter.wru)) / n, Decimal(str(meter.rru)) / n
    # Two messages per delivery (the event from the rule, the attempt); the event source mapping receives
    # and deletes them in batches of 10; the function sends the attempt message (counted above).
    sqs_requests = 1 + calls.get("sqs.SendMessage", Decimal(0)) + 2 * Decimal(2) / SQS_BATCH
    invocations = Decimal(2) / SQS_BATCH
    seconds = RECEIVER_SECONDS + Decimal("0.010") * sum(v for k, v in calls.items() if k.startswith("dynamodb."))
    cost = {
        "SQS requests": sqs_requests * PRICE["sqs_per_million_requests"],
        "Lambda requests": invocations * PRICE["lambda_per_million_requests"],
        "Lambda duration": m * seconds * MEMORY_GB * PRICE["lambda_per_gb_second_arm"],
        "DynamoDB writes": wru * PRICE["ddb_per_million_wru"],
        "DynamoDB reads": rru * PRICE["ddb_per_million_rru"],
    }
    total = sum(cost.values(), Decimal(0))
    text = "\n".join(
        [
            "## Outbound webhooks (issue 20)",
            "",
            f"{DELIVERIES} events to one endpoint on the local stack (moto + a receiver on 127.0.0.1 answering 204),",
            "through the `webhooks` queue and `webhook_delivery` as deployed: fan-out, then one signed attempt each.",
            "",
            f"- **Deliveries per second to one endpoint (local, one poller, sequential, warm): {rate:.1f}**"
            f" ({elapsed:.1f} s for {DELIVERIES}; moto's pure-Python DynamoDB and SQS dominate).",
            "  On AWS each batch of 10 is one invocation and batches run concurrently: one endpoint's rate is set by",
            "  its own latency (10 sequential attempts per invocation) and Lambda concurrency, not by this figure.",
            "- AWS calls per delivery: " + ", ".join(f"{k} {v:.2f}" for k, v in calls.items()) + ".",
            f"- DynamoDB per delivery: {wru:.2f} write units, {rru:.2f} read units.",
            "",
            "Cost per million deliveries (one endpoint per event, first attempt succeeds) at AWS list prices",
            f"(us-east-1; price table dated {PRICES_DATE}). Lambda duration is priced at a"
            f" {RECEIVER_SECONDS * 1000:.0f} ms receiver plus 10 ms",
            "per DynamoDB call, 512 MB arm64. The EventBridge event is published anyway (the event log): not counted.",
            "",
            "| item | $ per million deliveries |",
            "|---|---:|",
            *[f"| {k} | {v:.2f} |" for k, v in cost.items()],
            f"| **total** | **{total:.2f}** |",
            "",
            "Each failed attempt adds one attempt message and one attempt record (about 4 write units).",
            "",
        ]
    )
    return text, {"deliveries_per_second": rate, "cost_per_million": float(total)}


SECTIONS = [webhook_deliveries]
