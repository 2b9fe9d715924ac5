"""Issue 6: an invoice per subscription and period, never two; expected failures answered with their
error code and nothing billed; retry of one invoice; the invoice lifecycle table."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.billing import FailingTaxProvider, HungTaxProvider, SlowTaxProvider, UnavailableUsageReader
from tests.timing import assert_prompt
from tests.unit.billing.billing_world import JAN, TENANT, World
from tollgate.domain.billing.errors import UsageDataUnavailable
from tollgate.domain.billing.invoices import TRANSITIONS, InvoiceAction, InvoiceStatus, transition
from tollgate.domain.errors import Conflict
from tollgate.domain.periods import Period
from tollgate.usecases.billing import bill_subscription, retry_invoice
from tollgate.usecases.invoicing import create_wallet, put_billing_settings, top_up_wallet

D = Decimal
PER_UNIT = {"model": "per_unit", "currency": "USD", "unit_amount": "1"}


def fee_plan(world: World, amount: str = "10"):
    return world.plan(fees=[{"name": "Seat", "amount": amount, "timing": "in_arrears"}])


def test_billing_the_same_period_twice_creates_one_invoice(world: World):
    sub = world.subscribe(fee_plan(world))
    first = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    second = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert (first.status, second.status) == ("INVOICED", "ALREADY_INVOICED")
    assert first.invoice_id == second.invoice_id and len(world.billing.invoices) == 1
    assert len(world.billing.events_of("invoice.finalized")) == 1
    assert world.billing.commits == 1  # the second call wrote nothing


def test_a_draft_left_by_an_earlier_call_is_recomputed_and_finalized(world: World):
    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}])
    sub = world.subscribe(version)
    world.record(sub, meter, JAN[0] + timedelta(days=1), times=3)
    draft = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN, finalize=False)
    assert draft.invoice.status is InvoiceStatus.DRAFT and draft.invoice.totals.total == D("3.00")
    world.record(sub, meter, JAN[0] + timedelta(days=2), times=2)  # a late event arrived meanwhile
    final = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert final.status == "INVOICED" and final.invoice_id == draft.invoice_id
    assert final.invoice.status is InvoiceStatus.FINALIZED and final.invoice.totals.total == D("5.00")
    assert len(world.billing.invoices) == 1


def test_a_lost_race_is_recomputed(world: World):
    sub = world.subscribe(fee_plan(world))
    world.billing.fail_next_commit = 2
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.status == "INVOICED" and len(world.billing.invoices) == 1


def test_a_race_lost_to_another_finalization_answers_already_invoiced(world: World):
    sub = world.subscribe(fee_plan(world))
    other = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN).invoice
    # a second worker read "no invoice" before the first one wrote: its conditional write must fail
    original, stale = world.billing.get_invoice, iter([None])  # the first read is stale
    world.billing.get_invoice = lambda t, i: next(stale, original(t, i))
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.status == "ALREADY_INVOICED" and result.invoice_id == other.invoice_id
    assert world.billing.commits == 1


def test_wallet_insufficient_funds_for_a_prepaid_customer_fails_and_bills_nothing(world: World):
    version = world.plan(fees=[{"name": "Seat", "amount": "30", "timing": "in_arrears"}])
    customer = world.customer(billing_mode="prepaid")
    sub = world.subscribe(version, customer, pending_charges=(("Proration", "5", "2026-01-10T00:00:00Z"),))
    wallet = create_wallet(world.repos, TENANT, {"customer_id": customer.customer_id, "initial_balance": "20"})
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.status == "FAILED" and result.error_code == "WALLET_INSUFFICIENT_FUNDS"
    assert "35.00" in result.detail and "20" in result.detail
    # nothing billed: no invoice lines, wallet untouched, pending charges kept, no invoice.finalized
    assert world.billing.get_wallet(TENANT, wallet.wallet_id).balance == D("20")
    assert world.subscriptions.get(TENANT, sub.subscription_id).pending_charges
    assert world.billing.events_of("invoice.finalized") == []
    failed = world.billing.get_invoice(TENANT, result.invoice_id)
    assert (
        failed.status is InvoiceStatus.FAILED
        and failed.lines == ()
        and failed.error_code == "WALLET_INSUFFICIENT_FUNDS"
    )
    # the fix: top up, and re-run
    top_up_wallet(world.repos, TENANT, wallet.wallet_id, "15")
    again = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert again.status == "INVOICED" and again.invoice_id == result.invoice_id
    assert again.invoice.status is InvoiceStatus.PAID and again.invoice.totals.wallet == D("35.00")
    assert world.billing.get_wallet(TENANT, wallet.wallet_id).balance == D("0")


def test_a_prepaid_customer_without_a_wallet_fails_too(world: World):
    sub = world.subscribe(fee_plan(world), world.customer(billing_mode="prepaid"))
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.error_code == "WALLET_INSUFFICIENT_FUNDS" and "no wallet" in result.detail


def test_usage_store_unavailable_fails_with_usage_data_unavailable(world: World):
    meter = world.meter()
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}]))
    world.usage = UnavailableUsageReader()
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert (result.status, result.error_code) == ("FAILED", "USAGE_DATA_UNAVAILABLE")


def test_any_error_of_the_usage_reader_counts_as_usage_data_unavailable(world: World):
    meter = world.meter()
    sub = world.subscribe(world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}]))
    world.usage.fail = TimeoutError("read timed out")
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.error_code == "USAGE_DATA_UNAVAILABLE" and "TimeoutError" in result.detail
    assert isinstance(UnavailableUsageReader().fail, UsageDataUnavailable)


def test_a_slow_tax_provider_fails_with_tax_calculation_failed_then_retry_succeeds(world: World):
    slow = SlowTaxProvider(delay=4.0)
    world.tax_providers[slow.name] = slow
    put_billing_settings(
        world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": slow.name, "timeout_seconds": "0.1"}}
    )
    sub = world.subscribe(fee_plan(world, "100"))
    began = time.monotonic()
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert time.monotonic() - began < 3.5  # the 0.1 s timeout decided, not the 4 s provider
    assert (result.status, result.error_code) == ("FAILED", "TAX_CALCULATION_FAILED")
    assert "0.1s" in result.detail and f"/v1/invoices/{result.invoice_id}/retry" in result.detail
    # the engine is back (fast): retry just that invoice
    slow.delay = 0
    retried = retry_invoice(world.repos, TENANT, result.invoice_id)
    assert (
        retried.status == "INVOICED"
        and retried.invoice.totals.tax == D("10.00")
        and retried.invoice.totals.total == D("110.00")
    )
    assert retried.invoice.attempts == 2 and retried.invoice.error_code is None


def test_hung_tax_calls_never_jam_the_later_ones_and_past_the_bound_fail_at_once(world: World, monkeypatch):
    from tollgate.usecases.billing import tax

    monkeypatch.setattr(tax, "_slots", {})
    monkeypatch.setattr(tax, "MAX_IN_FLIGHT", 6)
    hung = HungTaxProvider(hang=6)
    world.tax_providers[hung.name] = hung
    put_billing_settings(
        world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": hung.name, "timeout_seconds": "0.1"}}
    )
    version = fee_plan(world, "100")

    def bill() -> Any:
        return bill_subscription(world.repos, TENANT, world.subscribe(version).subscription_id, *JAN)

    try:
        began = time.monotonic()
        for _ in range(5):  # five hung calls: each fails on its own timeout...
            failed = bill()
            assert failed.error_code == "TAX_CALCULATION_FAILED" and "within 0.1s" in failed.detail
        assert_prompt(time.monotonic() - began)
        assert bill().error_code == "TAX_CALCULATION_FAILED"  # the sixth hangs too: six calls outstanding
        # ... and the next is refused at once, naming why, instead of queueing behind them.
        refused = bill()
        assert refused.error_code == "TAX_CALCULATION_FAILED" and "6 calls still unanswered" in refused.detail
        # Meanwhile another provider answers (a shared pool of 4 threads had jammed after four hung calls).
        fast = SlowTaxProvider(delay=0, name="fast-engine")
        world.tax_providers[fast.name] = fast
        put_billing_settings(world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": fast.name}})
        assert bill().status == "INVOICED"
        put_billing_settings(world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": hung.name}})
        hung.release.set()  # the hung calls return: their threads end and free their slots
        began = time.monotonic()
        while (answered := bill()).status != "INVOICED":
            assert_prompt(time.monotonic() - began, "freeing the slots")
            time.sleep(0.05)
        assert answered.invoice.totals.tax == D("10.00")
    finally:
        hung.release.set()


def test_a_failing_tax_provider_fails_with_tax_calculation_failed(world: World):
    world.tax_providers["broken-engine"] = FailingTaxProvider()
    put_billing_settings(world.repos, TENANT, {"tax": {"mode": "EXCLUSIVE", "provider": "broken-engine"}})
    sub = world.subscribe(fee_plan(world))
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    assert result.error_code == "TAX_CALCULATION_FAILED" and "HTTP 500" in result.detail


def test_retrying_an_issued_invoice_is_a_409_naming_its_state(world: World):
    sub = world.subscribe(fee_plan(world))
    result = bill_subscription(world.repos, TENANT, sub.subscription_id, *JAN)
    with pytest.raises(Conflict) as conflict:
        retry_invoice(world.repos, TENANT, result.invoice_id)
    assert "FINALIZED" in conflict.value.detail


def test_one_subscriptions_failure_does_not_touch_another(world: World):
    version = fee_plan(world)
    ok = world.subscribe(version)
    broke = world.subscribe(version, world.customer(billing_mode="prepaid"))
    results = [bill_subscription(world.repos, TENANT, s.subscription_id, *JAN) for s in (broke, ok)]
    assert [r.status for r in results] == ["FAILED", "INVOICED"]


@pytest.mark.parametrize("state, action", list(itertools.product(InvoiceStatus, InvoiceAction)))
def test_every_invoice_state_action_pair_is_the_table_move_or_a_409_naming_the_state(state, action):
    if (state, action) in TRANSITIONS:
        assert transition(state, action, "inv_x") is TRANSITIONS[(state, action)]
    else:
        with pytest.raises(Conflict) as conflict:
            transition(state, action, "inv_x")
        assert state.value in conflict.value.detail and conflict.value.extra["state"] == state.value


def test_the_lifecycle_is_draft_finalized_then_paid_void_or_uncollectible():
    S, A = InvoiceStatus, InvoiceAction
    assert transition(S.DRAFT, A.FINALIZE, "i") is S.FINALIZED
    assert {transition(S.FINALIZED, a, "i") for a in (A.PAY, A.VOID, A.MARK_UNCOLLECTIBLE)} == {
        S.PAID,
        S.VOID,
        S.UNCOLLECTIBLE,
    }
    assert not [a for (state, a) in TRANSITIONS if state in (S.PAID, S.VOID)]  # terminal


def test_a_bill_run_page_reads_each_plan_version_and_meter_once(world: World):
    from tollgate.usecases.billing import PageBiller

    meter = world.meter()
    version = world.plan(usage_prices=[{"meter_id": meter, "price": PER_UNIT}])
    subs = [world.subscribe(version) for _ in range(5)]
    reads: list[str] = []
    get_version, get_meter = world.catalog.get_version, world.catalog.get_meter
    world.catalog.get_version = lambda *a: reads.append("version") or get_version(*a)
    world.catalog.get_meter = lambda *a: reads.append("meter") or get_meter(*a)
    bill = PageBiller(world.repos)
    bill.prefetch(TENANT, subs, {s.subscription_id: Period(*JAN) for s in subs})
    assert all(bill(TENANT, s.subscription_id, *JAN).status == "INVOICED" for s in subs)
    assert sorted(reads) == ["meter", "version"]
