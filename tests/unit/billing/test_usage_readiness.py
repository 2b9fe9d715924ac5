"""Issue 14: a bill run bills a page only once every event received before its cutoff is aggregated
(the aggregator's watermark of every event partition at or past the cutoff)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.billing.billing_world import JAN, TENANT, World
from tollgate.domain.billing.invoices import InvoiceStatus, invoice_id_for
from tollgate.domain.billing.usage_readiness import Readiness, readiness
from tollgate.usecases.billing import PageBiller
from tollgate.usecases.billing.usage_readiness import TransientError

CUTOFF = datetime(2026, 2, 1, 0, 15, tzinfo=UTC)
SHARDS = tuple(f"{n:02d}" for n in range(16))  # the DynamoDB store's event partitions


class Watermarks:
    def __init__(self) -> None:
        self.marks: dict[str, datetime] = {}
        self.probes: dict[datetime, datetime] = {}

    def partitions(self) -> tuple[str, ...]:
        return SHARDS

    def watermarks(self, tenant_id: str) -> dict[str, datetime]:
        return dict(self.marks)

    def probe(self, tenant_id: str, cutoff: datetime, now: datetime) -> datetime:
        return self.probes.setdefault(cutoff, now)

    def aggregator_catches_up(self) -> None:
        for cutoff in self.probes:
            for shard in SHARDS:
                self.marks[shard] = max(self.marks.get(shard, cutoff), cutoff)


def test_ready_only_when_every_partition_has_passed_the_cutoff():
    everywhere = {s: CUTOFF for s in SHARDS}
    assert readiness(everywhere, CUTOFF, SHARDS, None, CUTOFF) is Readiness.READY
    one_behind = {**everywhere, "07": CUTOFF - timedelta(seconds=1)}
    assert readiness(one_behind, CUTOFF, SHARDS, CUTOFF, CUTOFF + timedelta(seconds=2)) is Readiness.WAIT
    assert readiness(one_behind, CUTOFF, SHARDS, CUTOFF, CUTOFF + timedelta(seconds=6)) is Readiness.GIVE_UP


@pytest.fixture
def biller(world: World):
    marks = Watermarks()
    meter = world.meter()
    sub = world.subscribe(
        world.plan(
            usage_prices=[{"meter_id": meter, "price": {"model": "per_unit", "currency": "USD", "unit_amount": "1"}}]
        )
    )
    world.record(sub, meter, JAN[0] + timedelta(days=1))
    world.now = CUTOFF
    return PageBiller(replace(world.repos, watermarks=marks)), marks, sub


def test_a_page_waits_for_the_aggregator_then_bills(world: World, biller):
    bill, marks, sub = biller
    with pytest.raises(TransientError):  # the state machine retries the page in a moment
        bill.await_usage(TENANT, CUTOFF)
    assert list(marks.probes) == [CUTOFF]
    marks.aggregator_catches_up()
    bill.await_usage(TENANT, CUTOFF)
    assert bill(TENANT, sub.subscription_id, *JAN).status == "INVOICED"


def test_an_aggregator_behind_for_too_long_fails_the_subscription_and_the_rerun_bills_it_whole(world: World, biller):
    bill, marks, sub = biller
    with pytest.raises(TransientError):
        bill.await_usage(TENANT, CUTOFF)
    world.later(seconds=8)
    bill.await_usage(TENANT, CUTOFF)
    outcome = bill(TENANT, sub.subscription_id, *JAN)
    assert (outcome.status, outcome.error_code) == ("FAILED", "USAGE_DATA_UNAVAILABLE")
    failed = world.billing.get_invoice(TENANT, invoice_id_for(TENANT, sub.subscription_id, JAN[0]))
    assert failed.status is InvoiceStatus.FAILED and failed.lines == ()
    marks.aggregator_catches_up()  # the re-run, same cutoff
    bill.await_usage(TENANT, CUTOFF)
    again = bill(TENANT, sub.subscription_id, *JAN)
    assert again.status == "INVOICED"
    assert world.billing.get_invoice(TENANT, again.invoice_id).totals.total == 1
