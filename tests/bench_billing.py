"""Bill-run figures for BENCHMARKS.md (issue 6): a local bill run over many subscriptions with 5 metered
prices each, on moto, through the real state machine, tasks and billing pipeline.

Reported: wall time, AWS calls per subscription by service (what Tollgate's functions call; Step
Functions' own Lambda invocations and manifest reads are state-machine work, counted as transitions),
and the state transitions the run took, extrapolated to 1,000,000 subscriptions.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

SUBSCRIPTIONS = int(os.environ.get("BENCH_BILL_SUBSCRIPTIONS", "10000"))
METERS = 5
TRANSITION_PRICE = Decimal("0.000025")  # Step Functions Standard, USD per state transition (us-east-1, 2026)


def _seed(stack, tenant_id: str, plan, version: int, n: int, started: datetime) -> list[str]:
    """Customers and subscriptions written in batches (the items the use cases would write)."""
    from tollgate import wiring
    from tollgate.adapters.dynamodb.customers import _guard
    from tollgate.adapters.dynamodb.customers import _item as customer_item
    from tollgate.adapters.dynamodb.subscription_items import due_keys as _due_keys
    from tollgate.adapters.dynamodb.subscription_items import subscription_item
    from tollgate.domain.customers import Customer
    from tollgate.domain.periods import Anchor, Interval
    from tollgate.domain.subscriptions import PlanRef, Subscription, SubscriptionStatus

    table = wiring.subscription_repository()._table
    ids = []
    with stack.exclusive(), table.batch_writer() as batch:
        for i in range(n):
            c = Customer(f"cus_bench{i:07d}", tenant_id, f"bench-{i}", started, email=f"c{i}@example.com")
            s = Subscription(
                f"sub_bench{i:07d}",
                tenant_id,
                c.customer_id,
                PlanRef(plan, version),
                SubscriptionStatus.ACTIVE,
                started,
                Interval.MONTH,
                Anchor.CALENDAR,
                "UTC",
                "USD",
                version=1,
                plan_moves=0,
            )
            batch.put_item(Item=customer_item(c))
            batch.put_item(Item=_guard(tenant_id, c.external_id, c.customer_id))
            batch.put_item(Item={**subscription_item(s), "due_keys": _due_keys(s, started)})
            ids.append(s.subscription_id)
    return ids


def _wait_with_the_aggregator(stack, arn: str, timeout: float) -> dict:
    """Wait for the bill run while the usage aggregator reads its stream, as on AWS: the run waits for the
    aggregator to fold its watermark probes before billing a page (issue 14)."""
    sfn, deadline = stack.client("stepfunctions"), time.monotonic() + timeout
    while (desc := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"bill run {arn} still RUNNING after {timeout}s")
        stack.poll_streams(only="usage_aggregator")  # not the outbox relay: its publishing is not the bill run's
        time.sleep(0.1)
    return desc


def bill_run_scale() -> tuple[str, dict[str, float]]:
    import botocore.client

    from infra.local.http import LocalApiGateway
    from infra.local.stack import LocalStack

    stack = LocalStack(run_workers=False).start()
    try:
        gateway = LocalApiGateway(stack)
        boot = stack.bootstrap_tenant("bench billing")
        headers = {
            "Authorization": f"Bearer {boot.operator_key}",
            "X-Tenant-Id": boot.tenant_id,
            "Content-Type": "application/json",
        }

        def call(method: str, path: str, body=None) -> dict:
            r = gateway.handle(method, path, "", headers, json.dumps(body).encode() if body is not None else b"")
            assert int(r["statusCode"]) < 300, r
            return json.loads(r["body"]) if r.get("body") else {}

        prices = []
        for m in range(METERS):
            meter = call(
                "POST",
                "/v1/meters",
                {"event_name": f"bench.m{m}", "aggregation": {"function": "SUM", "field": "properties.n"}},
            )
            tiers = [{"up_to": 1000, "unit_amount": "0.01"}, {"up_to": None, "unit_amount": "0.005"}]
            prices.append({"meter_id": meter["id"], "price": {"model": "graduated", "currency": "USD", "tiers": tiers}})
        plan = call(
            "POST",
            "/v1/plans",
            {
                "name": "Bench",
                "currency": "USD",
                "usage_prices": prices,
                "fees": [{"name": "Platform", "amount": "49.00", "timing": "in_advance"}],
            },
        )
        call("POST", f"/v1/plans/{plan['id']}/versions/1/publish")
        call("PUT", "/v1/settings/billing", {"sender_email": "billing@bench.example"})
        now = datetime.now(UTC)
        started = datetime(now.year - (now.month == 1), (now.month - 2) % 12 + 1, 1, tzinfo=UTC)
        t = time.perf_counter()
        _seed(stack, boot.tenant_id, plan["id"], 1, SUBSCRIPTIONS, started)
        seed_seconds = time.perf_counter() - t
        stack.drain()

        counts: Counter = Counter()
        original = botocore.client.BaseClient._make_api_call

        def counting(self, operation_name, api_params):
            counts[(self.meta.service_model.service_name, operation_name)] += 1
            return original(self, operation_name, api_params)

        botocore.client.BaseClient._make_api_call = counting
        try:
            t = time.perf_counter()
            started_run = call("POST", "/v1/bill-runs", {})
            sfn = stack.client("stepfunctions")
            executions = sfn.list_executions(stateMachineArn=stack.state_machine_arns["bill_run"])["executions"]
            arn = next(e["executionArn"] for e in executions if e["name"] == started_run["id"])
            execution = _wait_with_the_aggregator(stack, arn, timeout=7200)
            run_seconds = time.perf_counter() - t
        finally:
            botocore.client.BaseClient._make_api_call = original
        run = call("GET", f"/v1/bill-runs/{started_run['id']}")
        assert execution["status"] == "SUCCEEDED", execution
        invoiced = run["totals"].get("INVOICED", 0)

        def entered(history) -> int:
            return sum(1 for e in history if e["type"].endswith("StateEntered"))

        parent = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    finally:
        stack.stop()

    pages = -(-SUBSCRIPTIONS // 100)
    parent_transitions = entered(parent)
    parent_tasks = sum(1 for e in parent if e["type"] == "TaskStateEntered")
    # Each child execution enters one task state per Lambda invocation it makes (RatePage, or
    # RecordPageFailure after a failure); moto does not list a Map Run's child executions.
    child_transitions = counts[("lambda", "Invoke")] - parent_tasks
    per_child = child_transitions / pages if pages else 0.0
    transitions = parent_transitions + child_transitions
    ours = {
        k: v
        for k, v in counts.items()
        if k[0] in ("dynamodb", "s3", "events", "ses", "sesv2") and k != ("s3", "GetObject")
    }
    per_sub = sum(ours.values()) / SUBSCRIPTIONS
    by_service = Counter()
    for (service, _), n in ours.items():
        by_service[service] += n
    million_pages = 1_000_000 // 100
    million_transitions = parent_transitions + million_pages * per_child
    rows = [
        "| figure | value |",
        "|---|---:|",
        f"| subscriptions billed (5 metered prices + a recurring fee each) | {invoiced:,} of {SUBSCRIPTIONS:,} |",
        f"| pages (100 subscriptions each) = Distributed Map child executions | {pages:,} |",
        f"| bill run wall time on moto (one process, handlers serialized) | {run_seconds:,.0f} s "
        f"({run_seconds / SUBSCRIPTIONS * 1000:.1f} ms per subscription) |",
        f"| AWS calls by Tollgate's functions, per subscription (goal ≤ 10) | {per_sub:.1f} |",
        *[f"| &nbsp;&nbsp;of which {s} | {n / SUBSCRIPTIONS:.2f} |" for s, n in sorted(by_service.items())],
        f"| state transitions: parent / per child / total | {parent_transitions} / {per_child:.1f} / {transitions:,} |",
        f"| parent history events (limit 25,000) | {len(parent)} |",
        f"| extrapolated to 1,000,000 subscriptions: transitions | {million_transitions:,.0f} "
        f"(${million_transitions * float(TRANSITION_PRICE):,.2f}) |",
        f"| seeding {SUBSCRIPTIONS:,} customers + subscriptions (batch writes) | {seed_seconds:,.0f} s |",
    ]
    top = ", ".join(f"{s}:{o} {n / SUBSCRIPTIONS:.2f}" for (s, o), n in sorted(ours.items(), key=lambda kv: -kv[1])[:8])
    text = "\n".join(
        [
            "## Bill run at scale (issue 6)",
            "",
            f"One local bill run over {SUBSCRIPTIONS:,} subscriptions on moto, through the real state machine file",
            "(Distributed Map over an S3 manifest of pages), the workflow tasks and the billing pipeline",
            "(usage reads, pricing, tax, invoice write, invoice email). The parent execution's history does not",
            "grow with the number of pages, so 1,000,000 subscriptions (10,000 pages) stay far below 25,000 events.",
            "",
            *rows,
            "",
            f"Calls per subscription by operation: {top}.",
            "",
        ]
    )
    return text, {"calls_per_subscription": per_sub, "seconds": run_seconds}


SECTIONS = [bill_run_scale]
