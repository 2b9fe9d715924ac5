"""The bill-run state machine *file* (infra/definitions/statemachines/bill_run.asl.json) executing on
moto, its Lambda tasks dispatched to the in-process handlers."""

import json
import uuid

import pytest

from functions.workflow_tasks import handler as tasks
from infra.local import lambda_dispatch
from infra.local.stack import function_name
from tollgate import wiring


class TransientError(Exception):
    """Matches the definition's Retry ErrorEquals, like a throttled dependency would."""


@pytest.fixture
def tenant(stack):
    return stack.bootstrap_tenant("Workflow tenant")


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

    lambda_dispatch.register(function_name("workflow_tasks"), wrapped)
    yield calls, faults
    lambda_dispatch.register(function_name("workflow_tasks"), tasks.lambda_handler)


def run(stack, tenant_id: str) -> dict:
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.state_machine_arns["bill_run"],
        name=f"test-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"tenant_id": tenant_id, "trigger": "api"}),
    )["executionArn"]
    return stack.wait_for_execution(arn)


def bill_run_of(execution: dict, tenant_id: str):
    run_id = json.loads(execution["output"])["bill_runs"][0]["bill_run_id"]
    return wiring.bill_run_repository().get(tenant_id, run_id)


def test_the_bill_run_definition_file_runs_to_succeeded_on_moto(stack, tenant, task_calls):
    calls, _ = task_calls
    execution = run(stack, tenant.tenant_id)
    assert execution["status"] == "SUCCEEDED"
    assert calls == ["open_bill_run", "rate_page", "close_bill_run"]
    assert bill_run_of(execution, tenant.tenant_id).status.value == "COMPLETED"


def test_a_transient_lambda_error_is_retried_as_the_definition_says(stack, tenant, task_calls):
    calls, faults = task_calls
    faults["rate_page"] = [TransientError("throttled"), TransientError("throttled again")]
    execution = run(stack, tenant.tenant_id)
    assert execution["status"] == "SUCCEEDED"
    assert calls.count("rate_page") == 3  # two failures, then the retry that succeeds
    assert bill_run_of(execution, tenant.tenant_id).status.value == "COMPLETED"


def test_a_hard_page_failure_is_caught_recorded_and_the_run_still_closes(stack, tenant, task_calls):
    calls, faults = task_calls
    faults["rate_page"] = [ValueError("bad data")]  # not retryable: caught by the Map item's Catch
    execution = run(stack, tenant.tenant_id)
    assert execution["status"] == "SUCCEEDED"
    assert calls == ["open_bill_run", "rate_page", "record_page_failure", "close_bill_run"]
    run_record = bill_run_of(execution, tenant.tenant_id)
    assert run_record.status.value == "PARTIALLY_FAILED"
    assert "ValueError" in run_record.page_errors[0]


def test_a_run_level_failure_marks_the_run_failed_and_the_execution_fails(stack, tenant, task_calls):
    calls, faults = task_calls
    faults["close_bill_run"] = [RuntimeError("store down")] * 5
    execution = run(stack, tenant.tenant_id)
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "BillRunFailed"
    assert calls[-1] == "fail_bill_run"


def test_the_daily_schedule_fired_by_the_local_clock_bills_every_tenant(stack, tenant, task_calls):
    from datetime import UTC, datetime

    started = stack.tick(datetime(2026, 11, 22, 0, 15, tzinfo=UTC))
    bill_runs = [arn for arn in started if ":tollgate-bill-run:" in arn]
    assert len(bill_runs) == 1  # the daily bill run (the 5-minute subscription clock fires too)
    execution = stack.wait_for_execution(bill_runs[0])
    assert execution["status"] == "SUCCEEDED"
    ids = {r["bill_run_id"] for r in json.loads(execution["output"])["bill_runs"]}
    assert len(ids) == len(wiring.tenancy_repository().list_tenant_ids())
