"""The bill-run state machine *file* (infra/definitions/statemachines/bill_run.asl.json) executing on moto:
a Distributed Map over an S3 manifest of pages, its Lambda tasks dispatched to the in-process handlers.
Billing itself is replaced here by a recording fake (the billing tests cover it): these tests are about
the orchestration — pages, retries, catches, per-subscription results, re-runs and idempotency."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from functions.bill_run_tasks import handler as tasks
from infra.local import lambda_dispatch
from infra.local.stack import function_name
from tollgate import wiring
from tollgate.usecases.bill_runs import BillOutcome


class TransientError(Exception):
    """Matches the definition's Retry ErrorEquals, like a throttled dependency would."""


class FakeBilling:
    """Records invoices by (subscription, period start): the same key never makes a second invoice; an
    INVOICED answer moves the subscription's billed_through, as the real biller's write does."""

    def __init__(self) -> None:
        self.invoices: dict[tuple[str, str], str] = {}
        self.calls = 0
        self.fail_codes: dict[str, str] = {}

    def __call__(self, tenant_id, subscription_id, period_start, period_end):
        self.calls += 1
        if subscription_id in self.fail_codes:
            return BillOutcome("FAILED", error_code=self.fail_codes[subscription_id], detail="fake failure")
        key = (subscription_id, period_start.isoformat())
        if key in self.invoices:
            return BillOutcome("ALREADY_INVOICED", self.invoices[key])
        self.invoices[key] = f"inv_{len(self.invoices)}"
        # As the real biller does in the invoice's own transaction: the subscription is billed through the period end.
        repo = wiring.subscription_repository()
        sub = repo.get(tenant_id, subscription_id)
        repo.save(
            replace(sub, billed_through=period_end, version=sub.version + 1),
            expected_version=sub.version,
            events=[],
            history=[],
        )
        return BillOutcome("INVOICED", self.invoices[key])


@pytest.fixture
def billing(monkeypatch):
    fake = FakeBilling()
    monkeypatch.setattr(wiring, "biller", lambda: fake)
    return fake


@pytest.fixture
def task_calls(stack):
    """Wrap the real task handler; tests can inject failures per task name."""
    calls: list[str] = []
    faults: dict[str, list[Exception]] = {}

    def wrapped(event, context):
        calls.append(event["task"])
        pending = faults.get(event["task"])
        if pending:
            raise pending.pop(0)
        return tasks.lambda_handler(event, context)

    lambda_dispatch.register(function_name("bill_run_tasks"), wrapped)
    yield calls, faults
    lambda_dispatch.register(function_name("bill_run_tasks"), tasks.lambda_handler)


def run(stack, tenant_id: str, bill_run_id: str | None = None, **extra) -> dict:
    sfn = stack.client("stepfunctions")
    payload = {
        "tenant_id": tenant_id,
        "trigger": "api",
        **({"bill_run_id": bill_run_id} if bill_run_id else {}),
        **extra,
    }
    arn = sfn.start_execution(
        stateMachineArn=stack.state_machine_arns["bill_run"],
        name=f"test-{uuid.uuid4().hex[:12]}",
        input=json.dumps(payload),
    )["executionArn"]
    execution = stack.wait_for_execution(arn, timeout=120)
    execution["history"] = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return execution


def bill_run_of(tenant_id: str, execution: dict):
    out = json.loads(execution["output"])["bill_runs"][0]
    with lambda_dispatch.LOCK:
        return wiring.bill_run_repository().get(tenant_id, out["bill_run_id"])


def test_the_bill_run_definition_file_runs_to_succeeded_on_moto(stack, tenant_builder, billing, task_calls):
    calls, _ = task_calls
    t = tenant_builder("workflow-basic")
    subs = t.subscriptions(3)
    execution = run(stack, t.tenant_id)
    assert execution["status"] == "SUCCEEDED"
    assert calls == ["open_bill_run", "rate_page", "close_bill_run"]
    bill_run = bill_run_of(t.tenant_id, execution)
    assert bill_run.status.value == "COMPLETED" and bill_run.totals == {"INVOICED": 3}
    assert {s for s, _ in billing.invoices} == set(subs)


def test_pages_fan_out_and_the_parent_history_does_not_grow_with_them(
    stack, tenant_builder, billing, task_calls, monkeypatch
):
    from tollgate.usecases import bill_runs

    monkeypatch.setattr(bill_runs, "PAGE_SIZE", 2)
    small, large = tenant_builder("history-small"), tenant_builder("history-large")
    small.subscriptions(2)
    large.subscriptions(12)
    one_page, six_pages = run(stack, small.tenant_id), run(stack, large.tenant_id)
    assert one_page["status"] == six_pages["status"] == "SUCCEEDED"
    calls, _ = task_calls
    assert calls.count("rate_page") == 1 + 6
    # A Distributed Map runs each page as a child execution: the parent's history is the same size for
    # 1 page or 6 (and for 10,000 pages: 1,000,000 subscriptions stay far below the 25,000-event limit).
    assert len(six_pages["history"]) == len(one_page["history"])


def test_a_transient_lambda_error_is_retried_as_the_definition_says(stack, tenant_builder, billing, task_calls):
    calls, faults = task_calls
    t = tenant_builder("workflow-retry")
    t.subscriptions(2)
    faults["rate_page"] = [TransientError("throttled"), TransientError("throttled again")]
    execution = run(stack, t.tenant_id)
    assert execution["status"] == "SUCCEEDED"
    assert calls.count("rate_page") == 3
    assert bill_run_of(t.tenant_id, execution).status.value == "COMPLETED"


def test_one_subscriptions_failure_never_stops_the_others(stack, tenant_builder, billing, task_calls):
    t = tenant_builder("workflow-partial")
    subs = t.subscriptions(4)
    billing.fail_codes = {subs[0]: "WALLET_INSUFFICIENT_FUNDS", subs[1]: "TAX_CALCULATION_FAILED"}
    execution = run(stack, t.tenant_id)
    bill_run = bill_run_of(t.tenant_id, execution)
    assert bill_run.status.value == "PARTIALLY_FAILED" and bill_run.totals == {"INVOICED": 2, "FAILED": 2}
    with lambda_dispatch.LOCK:
        results = wiring.bill_run_repository().results(t.tenant_id, bill_run.bill_run_id)
    codes = {r.subscription_id: r.error_code for r in results}
    assert codes[subs[0]] == "WALLET_INSUFFICIENT_FUNDS" and codes[subs[1]] == "TAX_CALCULATION_FAILED"


def test_a_run_killed_half_way_then_rerun_gives_exactly_one_invoice_per_subscription(
    stack, tenant_builder, billing, task_calls, monkeypatch
):
    from tollgate.usecases import bill_runs

    monkeypatch.setattr(bill_runs, "PAGE_SIZE", 2)
    calls, faults = task_calls
    t = tenant_builder("workflow-rerun")
    subs = t.subscriptions(6)
    # One page fails hard (not retryable): its subscriptions are recorded FAILED, the others are billed.
    faults["rate_page"] = [ValueError("the usage store fell over")]
    first = run(stack, t.tenant_id)
    bill_run = bill_run_of(t.tenant_id, first)
    assert bill_run.status.value == "PARTIALLY_FAILED" and bill_run.totals == {"INVOICED": 4, "FAILED": 2}
    assert len(billing.invoices) == 4
    # Re-run: only the failed subscriptions are rated again.
    calls.clear()
    again = run(stack, t.tenant_id, bill_run.bill_run_id, rerun=True)
    assert again["status"] == "SUCCEEDED" and calls.count("rate_page") == 1
    assert bill_run_of(t.tenant_id, again).totals == {"INVOICED": 6}
    assert sorted(s for s, _ in billing.invoices) == sorted(subs)
    # A second full run for the same period creates nothing new: every subscription is already billed.
    before = dict(billing.invoices)
    third = run(stack, t.tenant_id)
    assert billing.invoices == before
    assert bill_run_of(t.tenant_id, third).totals in ({}, {"SKIPPED": 6})


def test_a_run_level_failure_marks_the_run_failed_and_the_execution_fails(stack, tenant_builder, billing, task_calls):
    calls, faults = task_calls
    t = tenant_builder("workflow-fail")
    t.subscriptions(1)
    faults["close_bill_run"] = [RuntimeError("store down")] * 5
    execution = run(stack, t.tenant_id)
    assert execution["status"] == "FAILED" and execution.get("error") == "BillRunFailed"
    assert calls[-1] == "fail_bill_run"


def test_the_daily_schedule_fired_by_the_local_clock_bills_every_tenant(stack, billing, task_calls):
    started = stack.tick(datetime(2026, 11, 22, 0, 15, tzinfo=UTC))
    bill_runs = [arn for arn in started if ":tollgate-bill-run:" in arn]
    assert len(bill_runs) == 1  # the daily bill run (the 5-minute subscription clock fires too)
    execution = stack.wait_for_execution(bill_runs[0], timeout=120)
    assert execution["status"] == "SUCCEEDED"
    closed = json.loads(execution["output"])["closed"]
    with lambda_dispatch.LOCK:
        assert closed == len(wiring.tenancy_repository().list_tenant_ids())


def test_with_real_invoices_a_killed_run_its_rerun_and_another_run_leave_one_invoice_per_subscription(
    stack, tenant_builder, task_calls, monkeypatch
):
    """The same, through the real billing pipeline: invoices are counted in the invoice store."""
    from tollgate.usecases import bill_runs

    monkeypatch.setattr(bill_runs, "PAGE_SIZE", 2)
    _, faults = task_calls
    t = tenant_builder("workflow-real-invoices")
    subs = t.subscriptions(6)
    faults["rate_page"] = [ValueError("killed half way")]
    first = run(stack, t.tenant_id)
    bill_run = bill_run_of(t.tenant_id, first)
    assert bill_run.totals == {"INVOICED": 4, "FAILED": 2}
    run(stack, t.tenant_id, bill_run.bill_run_id, rerun=True)
    assert bill_run_of(t.tenant_id, first).totals == {"INVOICED": 6}
    run(stack, t.tenant_id)  # a second, full run for the same moment: nothing is due any more

    def invoices() -> dict[str, int]:
        with lambda_dispatch.LOCK:
            found = wiring.billing_repository().list_invoices(t.tenant_id)
        per_sub: dict[str, int] = {}
        for invoice in found:
            per_sub[invoice.subscription_id] = per_sub.get(invoice.subscription_id, 0) + 1
        return per_sub

    assert invoices() == {s: 1 for s in subs}
