"""Issue 14: reconciliation compares, per subscription, meter and invoiced period, the raw events with
the usage buckets and with what the invoices carry, and lists every difference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.fakes.billing import RecordedEvent
from tests.unit.billing.billing_world import FEB, JAN, TENANT, World
from tollgate.domain.billing.reconciliation import RawEvent, aggregate_raw
from tollgate.domain.catalog.meters import AggregationFunction
from tollgate.domain.errors import InvalidInput
from tollgate.usecases.billing import bill_subscription
from tollgate.usecases.reconciliation import ReconciliationRepos, reconcile, reconciliation_report

PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "0.10"}
YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))


class RawEvents:
    """The raw event store: what was ingested, whatever the buckets say."""

    def __init__(self) -> None:
        self.events: list[RawEvent] = []

    def raw_events(self, tenant_id: str, start: datetime, end: datetime) -> list[RawEvent]:
        return [e for e in self.events if start <= e.timestamp < end]


def ingest(world: World, raw: RawEvents, sub, meter_id: str, at: datetime, times: int = 1) -> None:
    """An event stored and aggregated (both the raw store and the buckets have it)."""
    for _ in range(times):
        world.record(sub, meter_id, at)
        raw.events.append(
            RawEvent(f"evt_{len(raw.events)}", sub.customer_id, meter_id, AggregationFunction.COUNT, Decimal(1), at)
        )


def repos(world: World, raw: RawEvents) -> ReconciliationRepos:
    return ReconciliationRepos(world.billing, world.usage, world.catalog, raw)


@pytest.fixture
def billed_january(world: World):
    raw = RawEvents()
    meter = world.meter()
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}]))
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=2), times=3)
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).status == "INVOICED"
    return raw, meter, sub


def test_reconciliation_is_empty_when_every_event_was_billed_once(world: World, billed_january):
    raw, _, _ = billed_january
    report = reconciliation_report(repos(world, raw), TENANT, *YEAR)
    assert report["checked"] == 1 and report["differences"] == []


def test_a_usage_bucket_altered_behind_tollgates_back_is_a_difference(world: World, billed_january):
    raw, meter, sub = billed_january
    world.usage.events.append((TENANT, RecordedEvent(sub.customer_id, meter, JAN[0] + timedelta(days=4), Decimal(1))))
    (difference,) = reconciliation_report(repos(world, raw), TENANT, *YEAR)["differences"]
    assert difference["kind"] == "AGGREGATION_MISMATCH"
    assert (difference["raw_quantity"], difference["aggregated_quantity"], difference["billed_quantity"]) == (
        "3",
        "4",
        "3",
    )
    assert difference["subscription_id"] == sub.subscription_id and difference["meter_id"] == meter
    assert difference["period"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}


def test_late_usage_is_a_difference_until_the_next_invoice_bills_it(world: World, billed_january):
    raw, meter, sub = billed_january
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=9))
    (pending,) = reconciliation_report(repos(world, raw), TENANT, *YEAR)["differences"]
    assert pending["kind"] == "UNBILLED_LATE_USAGE" and pending["difference"] == "1"
    world.now = FEB[1] + timedelta(minutes=30)
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *FEB).status == "INVOICED"
    assert reconciliation_report(repos(world, raw), TENANT, *YEAR)["differences"] == []


def test_a_range_is_bounded_and_ordered(world: World):
    with pytest.raises(InvalidInput):
        reconcile(repos(world, RawEvents()), TENANT, YEAR[1], YEAR[0])
    with pytest.raises(InvalidInput):
        reconcile(repos(world, RawEvents()), TENANT, YEAR[0], YEAR[0] + timedelta(days=401))


@pytest.mark.parametrize(
    ("function", "values", "expected"),
    [
        (AggregationFunction.COUNT, ["1", "5"], "2"),
        (AggregationFunction.SUM, ["1.5", "5"], "6.5"),
        (AggregationFunction.MAX, ["1.5", "5"], "5"),
        (AggregationFunction.AVG, ["1", "5"], "3"),
        (AggregationFunction.LATEST, ["7", "5"], "5"),
        (AggregationFunction.UNIQUE_COUNT, ["a", "b", "a"], "2"),
    ],
)
def test_raw_events_aggregate_as_the_meter_does(function, values, expected):
    at = JAN[0]
    events = [
        RawEvent(
            f"e{i}",
            "c",
            "m",
            function,
            v if function is AggregationFunction.UNIQUE_COUNT else Decimal(v),
            at + timedelta(minutes=i),
        )
        for i, v in enumerate(values)
    ]
    assert aggregate_raw(function, events) == Decimal(expected)


def test_the_scheduled_job_reports_each_tenants_differences_and_one_failing_tenant_fails_no_other(
    world: World, billed_january
):
    from tollgate.usecases.reconciliation import reconcile_tenants

    raw, meter, sub = billed_january
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=9))  # late, not billed yet

    class Broken(RawEvents):
        def raw_events(self, tenant_id, start, end):
            if tenant_id == "ten_broken":
                raise RuntimeError("throttled")
            return super().raw_events(tenant_id, start, end)

    broken = Broken()
    broken.events = raw.events
    world.billing.invoices[("ten_broken", "inv_x")] = next(iter(world.billing.invoices.values()))
    found = reconcile_tenants(repos(world, broken), ["ten_broken", TENANT], FEB[1])
    assert "ten_broken" not in found
    assert [r.kind.value for r in found[TENANT] if r.kind] == ["UNBILLED_LATE_USAGE"]


def test_raw_sums_keep_the_38_significant_digits_ingestion_accepts():
    big = Decimal("1234567890123456789012345678901234.5")  # 35 digits
    events = [
        RawEvent(f"e{i}", "c", "m", AggregationFunction.SUM, v, JAN[0]) for i, v in enumerate([big, Decimal("0.1")])
    ]
    assert aggregate_raw(AggregationFunction.SUM, events) == Decimal("1234567890123456789012345678901234.6")


def test_the_job_bills_the_adjustment_invoice_of_an_ended_subscriptions_late_usage(world: World):
    from dataclasses import replace

    from tollgate.domain.subscriptions import SubscriptionStatus
    from tollgate.usecases.reconciliation import reconcile_tenants

    raw = RawEvents()
    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}])
    sub = world.subscribe(version, status=SubscriptionStatus.CANCELLED, ended_at=JAN[1])
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=2))
    assert bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).status == "INVOICED"
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=9), times=2)
    job = replace(repos(world, raw), billing=world.repos)
    found = reconcile_tenants(job, [TENANT], FEB[0] + timedelta(days=3))
    assert [r.kind.value for r in found[TENANT] if r.kind] == ["UNBILLED_LATE_USAGE"]
    assert reconciliation_report(job, TENANT, *YEAR)["differences"] == []  # billed by the job
    assert reconcile_tenants(job, [TENANT], FEB[0] + timedelta(days=4))[TENANT] == []


def test_the_reconciliation_function_reconciles_every_tenant(world: World, billed_january, monkeypatch):
    from functions.reconciliation import handler
    from infra.local.lambda_dispatch import LocalContext
    from tollgate import wiring

    raw, meter, sub = billed_january
    ingest(world, raw, sub, meter, JAN[0] + timedelta(days=9))

    class Tenants:
        def list_tenant_ids(self) -> list[str]:
            return [TENANT]

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(wiring, "tenancy_repository", Tenants)
    monkeypatch.setattr(wiring, "reconciliation_repos", lambda: repos(world, raw))
    monkeypatch.setattr(handler, "utcnow", lambda: FEB[0] + timedelta(days=3))
    assert handler.lambda_handler({}, LocalContext("reconciliation")) == {"tenants": 1, "differences": 1}
