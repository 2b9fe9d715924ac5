"""`make bench` section of issue 13 class 4: UNIQUE_COUNT at 100,000 distinct values (``BENCH_DISTINCT_VALUES``)
for one customer, meter and billing period.

The aggregation use case (``tollgate.usecases.usage.aggregate``, what the usage aggregator Lambda runs) is run
against the DynamoDB adapter on moto (the local stack's tables and patches), fed stream batches of 500 events
as the event source mapping delivers them. Every DynamoDB call is counted with botocore hooks, and write and
read units are computed from the items' sizes by DynamoDB's rules (``tests.bench_ingest``: moto's
ConsumedCapacity is not faithful): a transaction costs 2 write units per KB per item; a strongly consistent
read 1 read unit per 4 KB (a key not found: 1 unit too). Time is moto's (pure Python): it shows how the work
grows, not AWS latency.

Phases: (1) every value's first occurrence, spread over the 720 hours of a 30-day period in time order;
(2) a tenth of the values seen again in a later hour, and a tenth repeated within an hour already counted;
(3) billing reads the period (``BucketUsageReader``, UTC and a New York month) and must count exactly.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from tests.bench_ingest import PRICE, PRICES_DATE, _stored_size, item_size, rru, wru

VALUES = int(os.environ.get("BENCH_DISTINCT_VALUES", "100000"))
BATCH = 500
HOURS = 720
PERIOD_START = datetime(2026, 11, 1, tzinfo=UTC)


class Capacity:
    """DynamoDB calls and capacity units of the calls made while ``phase`` is set."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wru = 0.0
        self.rru = 0.0

    def reset(self) -> tuple[Counter[str], float, float]:
        out = (self.calls, self.wru, self.rru)
        self.calls, self.wru, self.rru = Counter(), 0.0, 0.0
        return out

    def before(self, model, params, **kwargs) -> None:
        self.calls[model.name] += 1
        body = params.get("body") or b"{}"
        kwargs["context"]["bench_request"] = json.loads(body) if isinstance(body, bytes | str) else body

    def after(self, model, parsed, **kwargs) -> None:
        body: dict[str, Any] = kwargs["context"].get("bench_request") or {}
        op = model.name
        if op == "TransactWriteItems":
            for t in body["TransactItems"]:
                if "Put" in t:
                    self.wru += 2 * wru(item_size(t["Put"]["Item"]))
                else:
                    (kind,) = t
                    self.wru += 2 * wru(_stored_size(t[kind]["TableName"], t[kind]["Key"]))
        elif op == "UpdateItem":
            self.wru += wru(_stored_size(body["TableName"], body["Key"]))
        elif op == "BatchGetItem":
            for table, request in body["RequestItems"].items():
                found = (parsed.get("Responses") or {}).get(table, [])
                consistent = request.get("ConsistentRead", False)
                self.rru += sum(rru(item_size(i), consistent) for i in found)
                missing = (
                    len(request["Keys"])
                    - len(found)
                    - len((parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", []))
                )
                self.rru += missing * rru(0, consistent)
        elif op == "Query":
            self.rru += rru(sum(item_size(i) for i in parsed.get("Items", [])), body.get("ConsistentRead", False))


def _events(tenant_id: str, plan: list[tuple[int, int]], first_seq: int) -> list:
    from tollgate.domain.catalog.meters import AggregationFunction
    from tollgate.domain.usage.aggregation import StreamEvent, hour_of, seq_key

    out = []
    for n, (value, hour) in enumerate(plan):
        at = hour_of(PERIOD_START + timedelta(hours=hour))
        seq = first_seq + n
        out.append(
            StreamEvent(
                tenant_id,
                "cus_bench",
                "mtr_bench",
                AggregationFunction.UNIQUE_COUNT,
                f"user-{value:08d}@bench.example.com",
                f"{at}:{seq % 60:02d}:00.000000Z",
                f"e{seq}",
                f"{seq % 16:02d}",
                seq_key(str(10**21 + seq)),
            )
        )
    return out


def _run(events: list, store) -> float:
    from tollgate.usecases.usage import aggregate

    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        aggregate(events[i : i + BATCH], store)
    return time.perf_counter() - started


class Phase(NamedTuple):
    events: int
    seconds: float
    calls: Counter[str]
    wru: float
    rru: float

    def row(self, name: str) -> str:
        return (
            f"| {name} | {self.events:,} | {self.seconds:.1f} | {_calls(self.calls)} "
            f"| {self.wru / self.events:.2f} | {self.rru / self.events:.2f} |"
        )


def _measure(capacity: Capacity, events: list, store) -> Phase:
    seconds = _run(events, store)
    return Phase(len(events), seconds, *capacity.reset())


def distinct_scale() -> tuple[str, dict[str, float]]:
    from infra.local.stack import LocalStack
    from tollgate import wiring
    from tollgate.adapters import aws
    from tollgate.adapters.dynamodb.usage_reader import BucketUsageReader
    from tollgate.domain.catalog.meters import Aggregation, AggregationFunction, Meter

    stack = LocalStack(run_workers=False).start()
    capacity = Capacity()
    tenant, tenth = "ten_bench_distinct", VALUES // 10
    first = [(v, v * HOURS // VALUES) for v in range(VALUES)]
    again = [(v * 10, min(HOURS - 1, v * 10 * HOURS // VALUES + 24)) for v in range(tenth)]  # a day later
    same_hour = [(v * 10 + 1, (v * 10 + 1) * HOURS // VALUES) for v in range(tenth)]  # an hour already counted
    try:
        client = aws.client("dynamodb")
        client.meta.events.register("before-call.dynamodb", capacity.before)
        client.meta.events.register_first("after-call.dynamodb", capacity.after)
        store = wiring.usage_store()
        phases = [
            _measure(capacity, _events(tenant, first, 0), store),
            _measure(capacity, _events(tenant, again, VALUES), store),
            _measure(capacity, _events(tenant, same_hour, VALUES + tenth), store),
        ]
        meter = Meter(
            "mtr_bench",
            tenant,
            "Users",
            "active.users",
            Aggregation(AggregationFunction.UNIQUE_COUNT),
            PERIOD_START,
            PERIOD_START,
        )
        reader = BucketUsageReader(store)
        t = time.perf_counter()
        utc = reader.aggregate(tenant, "cus_bench", meter, PERIOD_START, PERIOD_START + timedelta(days=30))
        phases.append(Phase(1, time.perf_counter() - t, *capacity.reset()))
        new_york = reader.aggregate(
            tenant, "cus_bench", meter, PERIOD_START + timedelta(hours=5), PERIOD_START + timedelta(days=30, hours=5)
        )
        client.meta.events.unregister("before-call.dynamodb", capacity.before)
        client.meta.events.unregister("after-call.dynamodb", capacity.after)
    finally:
        stack.stop()
    counted = (int(utc.quantity), int(new_york.quantity))
    expected = (VALUES, len({v for v, h in first + again + same_hour if h >= 5}))
    return _section(phases, counted, expected)


def _section(phases: list[Phase], counted: tuple[int, int], expected: tuple[int, int]) -> tuple[str, dict[str, float]]:
    price_w, price_r = PRICE["ddb_per_million_wru"], PRICE["ddb_per_million_rru"]
    first, _, _, read = phases
    per_value_w, per_value_r = first.wru / VALUES, first.rru / VALUES
    per_million = Decimal(str(per_value_w)) * price_w + Decimal(str(per_value_r)) * price_r
    figures = {
        "seconds": first.seconds,
        "wru_per_value": per_value_w,
        "rru_per_value": per_value_r,
        "usd_per_million_values": float(per_million),
        "read_seconds": read.seconds,
        "exact": float(counted == expected),
    }
    rows = [
        "| phase | events | moto time (s) | DynamoDB calls | write units / event | read units / event |",
        "|---|---:|---:|---|---:|---:|",
        first.row("first occurrence of each value"),
        phases[1].row("10% of the values again, a day later"),
        phases[2].row("10% of the values again, in the hour already counted"),
        f"| billing reads the 30-day period | 1 read | {read.seconds:.2f} | {_calls(read.calls)} | 0 "
        f"| {read.rru:.0f} in all |",
    ]
    text = "\n".join(
        [
            "## Distinct counts at scale (issue 13, UNIQUE_COUNT)",
            "",
            f"{VALUES:,} distinct values (user ids of 30 characters) for one customer, meter and 30-day period,",
            "folded by the aggregation use case into the DynamoDB adapter on moto, in stream batches of 500. Capacity",
            "units are computed from the items' sizes by DynamoDB's rules (transactions: 2 write units per KB per",
            "item; strongly consistent reads: 1 read unit per 4 KB, a missing key 1 unit); they include the hourly",
            "bucket's event count every meter pays for. Times are moto's (pure Python, a shared machine), not AWS's.",
            "",
            *rows,
            "",
            f"Billing counted **{counted[0]:,}** distinct values for the UTC period and **{counted[1]:,}** for the"
            f" New York month (expected {expected[0]:,} and {expected[1]:,}):"
            f" {'exact' if counted == expected else 'NOT exact'}.",
            "",
            f"Cost per million distinct values (each new to the period once), DynamoDB on-demand us-east-1 "
            f"(${price_w} per million write units, ${price_r} per million read units; prices dated {PRICES_DATE}): "
            f"**${per_million:.2f}** ({per_value_w:.2f} write units and {per_value_r:.2f} read units per value).",
            "A value costs writes once per hour it occurs in (not per event); an event whose value was counted in its",
            "hour already costs its reads. Reading a period costs what reading its hourly buckets costs (one Query),",
            "whatever the number of values.",
            "",
            "1,000,000 distinct values (extrapolated, not measured: every cost here is per value, no item grows with",
            f"the number of values): about {per_value_w:.1f} M write units and {per_value_r:.1f} M"
            f" read units, ${per_million:.2f}; about {_calls(first.calls, 1_000_000 / VALUES)} calls,"
            f" {first.seconds * 1_000_000 / VALUES / 60:.0f} minutes of moto time. On AWS the calls take milliseconds"
            " each and one customer's events spread over 16 partition keys (stream shards processed in parallel).",
            "",
        ]
    )
    return text, figures


def _calls(calls: Counter[str], scale: float = 1) -> str:
    return ", ".join(f"{name} {round(n * scale):,}" for name, n in sorted(calls.items()))


SECTIONS = [distinct_scale]


if __name__ == "__main__":
    text, _ = distinct_scale()
    print(text)
