"""The dunning state machine *file* (infra/definitions/statemachines/dunning.asl.json) executing on moto,
end to end: an invoice is finalized -> its invoice.finalized event goes outbox -> EventBridge ->
the collect-payments queue -> payment_collector starts the invoice's execution -> plan / wait / attempt
with the sandbox provider, the waits read from the tenant's retry schedule (one second here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tollgate import wiring
from tollgate.domain.billing.invoices import InvoiceStatus
from tollgate.domain.subscriptions import SubscriptionStatus
from tollgate.usecases import customers, payments, subscriptions
from tollgate.usecases.billing import bill_subscription

FAST = ["PT1S", "PT1S", "PT1S"]


def _billed(stack, builder, method: str, final: str = "CANCELLED"):
    """A subscription with an invoice just finalized, the customer paying with ``method``."""
    tb = builder(f"dunning {method}")
    plan_id = tb.plan("25.00")
    with stack.exclusive():
        payments.put_payment_settings(
            wiring.payment_repos(), tb.tenant_id, {"retry_schedule": FAST, "final_subscription_status": final}
        )
        c = customers.create_customer(
            wiring.customer_repository(), tb.tenant_id, {"external_id": f"dun-{method}-{final}"}
        )
        payments.set_payment_method(wiring.payment_repos(), tb.tenant_id, c.customer_id, {"payment_method": method})
        started = datetime.now(UTC) - timedelta(days=40)  # the first period has ended
        sub = subscriptions.create_subscription(
            wiring.subscription_repos(),
            tb.tenant_id,
            {"customer_id": c.customer_id, "plan_id": plan_id, "start_at": started},
        )
        period = sub.next_bill_period()
        result = bill_subscription(wiring.billing_repos(), tb.tenant_id, sub.subscription_id, period.start, period.end)
    assert result.status == "INVOICED" and result.invoice.status is InvoiceStatus.FINALIZED, result
    return tb.tenant_id, sub.subscription_id, result.invoice_id


def _run(stack, invoice_id: str) -> dict:
    """Deliver the invoice.finalized event, then wait for the invoice's execution (named by its id)."""
    arn = stack.state_machine_arns["dunning"].replace(":stateMachine:", ":execution:") + f":{invoice_id}"
    sfn = stack.client("stepfunctions")
    for _ in range(50):
        stack.drain()
        try:
            sfn.describe_execution(executionArn=arn)
            break
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
    else:
        pytest.fail("the invoice.finalized event did not start the dunning execution")
    return stack.wait_for_execution(arn, timeout=90)


def _state(stack, tenant_id, subscription_id, invoice_id):
    with stack.exclusive():
        return (
            wiring.billing_repository().get_invoice(tenant_id, invoice_id),
            wiring.subscription_repository().get(tenant_id, subscription_id),
            wiring.subscription_repository().history(tenant_id, subscription_id),
        )


def test_two_declines_then_success_is_paid_and_active_with_three_attempts(stack, tenant_builder):
    tenant_id, sub_id, invoice_id = _billed(stack, tenant_builder, "pm_sandbox_declineTwiceThenSucceed")
    execution = _run(stack, invoice_id)
    assert execution["status"] == "SUCCEEDED", execution
    invoice, sub, history = _state(stack, tenant_id, sub_id, invoice_id)
    assert invoice.status is InvoiceStatus.PAID and invoice.amount_due == 0
    assert [(a.number, a.outcome.value, a.trigger) for a in invoice.payment_attempts] == [
        (1, "declined", "automatic"),
        (2, "declined", "dunning"),
        (3, "succeeded", "dunning"),
    ]
    assert sub.status is SubscriptionStatus.ACTIVE and sub.dunning_attempts == 0
    moves = [(h.action, h.to_status.value) for h in history][-3:]
    assert moves == [("PAYMENT_FAILED", "PAST_DUE"), ("PAYMENT_FAILED", "PAST_DUE"), ("PAYMENT_SUCCEEDED", "ACTIVE")]


@pytest.mark.parametrize("final", ["CANCELLED", "PAST_DUE"])
def test_all_declines_end_uncollectible_and_in_the_configured_state(stack, tenant_builder, final):
    tenant_id, sub_id, invoice_id = _billed(stack, tenant_builder, "pm_card_chargeDeclinedInsufficientFunds", final)
    execution = _run(stack, invoice_id)
    assert execution["status"] == "SUCCEEDED", execution
    invoice, sub, _ = _state(stack, tenant_id, sub_id, invoice_id)
    assert invoice.status is InvoiceStatus.UNCOLLECTIBLE
    assert [a.decline_code for a in invoice.payment_attempts] == ["insufficient_funds"] * 4
    assert sub.status.value == final and sub.dunning_attempts == 4


def test_a_redelivered_event_starts_no_second_execution(stack, tenant_builder):
    tenant_id, sub_id, invoice_id = _billed(stack, tenant_builder, "pm_card_visa")
    _run(stack, invoice_id)
    with stack.exclusive():
        again = payments.start_collection(wiring.payment_repos(), tenant_id, invoice_id)
    executions = stack.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arns["dunning"])[
        "executions"
    ]
    assert again.endswith(invoice_id) and [e["name"] for e in executions].count(invoice_id) == 1
    invoice, _, _ = _state(stack, tenant_id, sub_id, invoice_id)
    assert invoice.status is InvoiceStatus.PAID and len(invoice.payment_attempts) == 1


def test_a_failing_task_is_retried_and_the_payment_is_made_once(stack, tenant_builder):
    """A task that fails (throttling, a timeout, a crash after the charge) is retried by the definition's
    Retry; the attempt number makes the retried charge the same attempt, recorded once."""
    from functions.dunning_tasks import handler as tasks
    from infra.local import lambda_dispatch
    from infra.local.stack import function_name

    failures = {"attempt_dunning_payment": 1, "plan_dunning_attempt": 1}
    calls: list[str] = []

    def flaky(event, context):
        calls.append(event["task"])
        result = tasks.lambda_handler(event, context)  # the work is done (the charge made and written)...
        if failures.get(event["task"]):
            failures[event["task"]] -= 1
            raise RuntimeError("the Lambda timed out after doing its work")  # ...but the state machine sees a failure
        return result

    lambda_dispatch.register(function_name("dunning_tasks"), flaky)
    try:
        tenant_id, sub_id, invoice_id = _billed(stack, tenant_builder, "pm_card_visa")
        execution = _run(stack, invoice_id)
    finally:
        lambda_dispatch.register(function_name("dunning_tasks"), tasks.lambda_handler)
    assert execution["status"] == "SUCCEEDED", execution
    invoice, _, _ = _state(stack, tenant_id, sub_id, invoice_id)
    assert invoice.status is InvoiceStatus.PAID and [a.number for a in invoice.payment_attempts] == [1]
    assert calls.count("attempt_dunning_payment") == 2  # the retry found attempt 1 recorded: nothing charged again
