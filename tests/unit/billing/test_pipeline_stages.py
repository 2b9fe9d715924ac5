"""Issue 12: the billing pipeline is a list of pure stages; preview, bill run and retry differ only by data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.unit.billing.billing_world import JAN, TENANT, World
from tollgate.domain.billing import pipeline
from tollgate.domain.billing.invoices import LineKind, invoice_id_for
from tollgate.domain.periods import Period
from tollgate.usecases.billing import PageBiller, PageSnapshot, bill_subscription
from tollgate.usecases.billing.inputs import gather_inputs

PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "0.10"}


def _inputs(world: World, sub_id: str):
    return gather_inputs(PageSnapshot(world.repos, TENANT), sub_id, Period(*JAN), None, world.now)


def test_the_stages_run_rating_then_pre_tax_then_post_tax_in_the_documented_order():
    names = [s.__name__ for s in (*pipeline.RATING, *pipeline.PRE_TAX, *pipeline.POST_TAX)]
    assert names == [
        "recurring_fees",
        "rate_usage",
        "pending_charges",
        "minimum_commitment",
        "rate_late_usage",
        "discount",
        "credit_notes",
        "prepaid_wallet",
    ]


def test_stages_are_pure_the_same_inputs_give_the_same_bill_and_nothing_is_read_or_written(world: World):
    meter = world.meter()
    version = world.plan(
        fees=[{"name": "Base", "amount": "20.00", "timing": "in_arrears"}],
        usage_prices=[{"meter_id": meter, "price": PER_UNIT}],
    )
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=30)
    inputs = _inputs(world, sub.subscription_id)
    reads_before, commits_before = len(world.usage.reads), world.billing.commits

    first = pipeline.after_tax(inputs, pipeline.before_tax(inputs), None)
    second = pipeline.after_tax(inputs, pipeline.before_tax(inputs), None)

    assert first == second
    assert [ln.kind for ln in first.lines] == [LineKind.FEE, LineKind.USAGE]
    assert sum((ln.amount for ln in first.lines), Decimal(0)) == Decimal("23.00")
    assert (len(world.usage.reads), world.billing.commits) == (reads_before, commits_before)


def test_no_tax_is_asked_for_when_the_tenant_charges_none(world: World):
    sub = world.subscribe(world.plan(fees=[{"name": "Base", "amount": "20.00", "timing": "in_arrears"}]))
    inputs = _inputs(world, sub.subscription_id)
    assert pipeline.tax_request(inputs, pipeline.before_tax(inputs)) is None


def test_a_bill_run_page_and_a_single_bill_give_the_same_invoice(world: World):
    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}])
    subs = [world.subscribe(version) for _ in range(2)]
    for sub in subs:
        world.record(sub, meter, JAN[0] + timedelta(days=5), times=12)

    page = PageBiller(world.repos)
    page.prefetch(TENANT, subs[:1], {subs[0].subscription_id: Period(*JAN)})
    from_page = page(TENANT, subs[0].subscription_id, *JAN)
    single = bill_subscription(world.repos, TENANT, subs[1].subscription_id, *JAN)

    assert from_page.status == single.status == "INVOICED"
    invoices = [world.billing.get_invoice(TENANT, invoice_id_for(TENANT, s.subscription_id, JAN[0])) for s in subs]
    assert [i.totals.total for i in invoices] == [Decimal("1.20"), Decimal("1.20")]
