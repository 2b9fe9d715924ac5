"""Issue 13 class 2: no exception from one subscription fails another. A bill-run page with a subscription
whose usage the pricing engine refuses (negative, or more digits than money arithmetic allows) and one
whose billing raises unexpectedly still invoices every other subscription of the page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from tests.fakes.billing import InMemoryBillRuns
from tests.unit.billing.billing_world import JAN, TENANT, World
from tollgate.domain.bill_runs import BillRun, BillRunStatus, ResultStatus
from tollgate.domain.billing.invoices import InvoiceStatus, invoice_id_for
from tollgate.domain.clock import to_rfc3339
from tollgate.usecases.bill_runs import Deps, rate_page
from tollgate.usecases.billing import PageBiller, bill_subscription, retry_invoice

PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "0.10"}


@pytest.fixture
def metered(world: World):
    meter = world.meter(function="SUM", field_="quantity")
    version = world.plan(
        fees=[{"name": "Base", "amount": "5.00", "timing": "in_arrears"}],
        usage_prices=[{"meter_id": meter, "price": PER_UNIT}],
    )
    return meter, version


def _page(world: World, subscription_ids: list[str]) -> tuple[InMemoryBillRuns, dict[str, Any]]:
    runs = InMemoryBillRuns()
    runs.open(BillRun("br_1", TENANT, "api", BillRunStatus.RUNNING, world.now, as_of=world.now))
    deps = Deps(runs=runs, tenants=cast(Any, None), subscriptions=world.subscriptions, manifests=cast(Any, None))
    page = {"tenant_id": TENANT, "bill_run_id": "br_1", "page": 0, "as_of": to_rfc3339(world.now)}
    answer = rate_page(deps, PageBiller(world.repos), {**page, "subscription_ids": subscription_ids})
    return runs, answer


@pytest.mark.parametrize("refused", ["-1000", "1E+125", "0.0000000000000000001"])
def test_usage_the_pricing_engine_refuses_fails_only_its_subscription(world: World, metered, refused: str):
    meter, version = metered
    healthy = [world.subscribe(version) for _ in range(3)]
    broken = world.subscribe(version)
    for sub in healthy:
        world.record(sub, meter, JAN[0] + timedelta(days=3), quantity=10)
    world.record(broken, meter, JAN[0] + timedelta(days=3), quantity=refused)

    runs, answer = _page(
        world, [healthy[0].subscription_id, broken.subscription_id, *(s.subscription_id for s in healthy[1:])]
    )

    results = {r.subscription_id: r for r in runs.results(TENANT, "br_1")}
    assert answer["INVOICED"] == 3 and answer["FAILED"] == 1
    assert all(results[s.subscription_id].status is ResultStatus.INVOICED for s in healthy)
    failed = results[broken.subscription_id]
    assert (failed.status, failed.error_code) == (ResultStatus.FAILED, "USAGE_INVALID")
    assert meter in failed.detail and "/retry" in failed.detail
    record = world.billing.get_invoice(TENANT, invoice_id_for(TENANT, broken.subscription_id, JAN[0]))
    assert record is not None and record.status is InvoiceStatus.FAILED and record.error_code == "USAGE_INVALID"
    assert record.lines == ()  # nothing of the bill is written
    assert [e.data["error_code"] for e in world.billing.events_of("invoice.failed")] == ["USAGE_INVALID"]


def test_an_unexpected_error_fails_only_its_subscription_with_internal_error(
    world: World, metered, caplog, monkeypatch
):
    _meter, version = metered
    healthy = [world.subscribe(version) for _ in range(2)]
    unlucky = world.subscribe(version)
    read = world.customers.get

    def customers_get(tenant_id: str, customer_id: str):
        if customer_id == unlucky.customer_id:
            raise RuntimeError("the customer store fell over")
        return read(tenant_id, customer_id)

    monkeypatch.setattr(world.customers, "get", customers_get)  # one customer's reads fail
    runs, answer = _page(world, [unlucky.subscription_id, *(s.subscription_id for s in healthy)])

    results = {r.subscription_id: r for r in runs.results(TENANT, "br_1")}
    assert answer["INVOICED"] == 2 and answer["FAILED"] == 1
    assert results[unlucky.subscription_id].error_code == "INTERNAL_ERROR"
    assert "RuntimeError" in results[unlucky.subscription_id].detail
    assert "the customer store fell over" in caplog.text  # logged with the exception
    record = world.billing.get_invoice(TENANT, invoice_id_for(TENANT, unlucky.subscription_id, JAN[0]))
    assert record is not None and record.status is InvoiceStatus.FAILED and record.error_code == "INTERNAL_ERROR"


def test_a_refused_usage_invoice_is_billed_by_retry_once_the_usage_is_corrected(world: World, metered):
    meter, version = metered
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=3), quantity="-1000")
    failed = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert (failed.status, failed.error_code) == ("FAILED", "USAGE_INVALID")

    world.usage.events.clear()  # the bad event corrected
    world.record(sub, meter, JAN[0] + timedelta(days=3), quantity=10)
    assert retry_invoice(world.repos, TENANT, failed.invoice_id).status == "INVOICED"


def test_business_metrics_count_finalized_invoices_and_bill_failures_by_code(world: World, metered, monkeypatch):
    from tollgate.usecases.billing import bill as billing

    counted: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(billing, "count", lambda name, value=1, **dims: counted.append((name, dims)))
    meter, version = metered
    healthy, broken = world.subscribe(version), world.subscribe(version)
    world.record(broken, meter, JAN[0] + timedelta(days=3), quantity="-5")

    _page(world, [healthy.subscription_id, broken.subscription_id])
    bill_subscription(world.repos, TENANT, healthy.subscription_id, *JAN)  # already invoiced: not counted again

    assert counted == [("InvoicesFinalized", {}), ("BillFailures", {"code": "USAGE_INVALID"})]


def test_a_page_whose_bulk_read_fails_bills_each_subscription_from_its_own_reads(world: World, metered, monkeypatch):
    _meter, version = metered
    subs = [world.subscribe(version) for _ in range(3)]

    def unreadable_page(*args, **kwargs):
        raise RuntimeError("one item of the page cannot be decoded")

    monkeypatch.setattr("tollgate.usecases.billing.bill.read_page", unreadable_page)
    runs, answer = _page(world, [s.subscription_id for s in subs])

    assert answer["INVOICED"] == 3
    assert {r.status for r in runs.results(TENANT, "br_1")} == {ResultStatus.INVOICED}
