"""The Lambda tasks of the bill run state machine (thin adapter: task name -> tollgate.usecases.bill_runs).

Its role may read and write the main table, read the usage table, write the bill-run manifests and send
invoice email: nothing else (infra/definitions/functions.json)."""

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer
from tollgate.workflow_tasks import run_task


def open_bill_run(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.open_bill_run(wiring.bill_run_deps(), event.get("input") or {}, event.get("execution", ""))


def rate_page(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.rate_page(wiring.bill_run_deps(), wiring.biller(), event["input"])


def record_page_failure(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    state = event["input"]
    page = {k: v for k, v in state.items() if k != "error"}
    return bill_runs.record_page_failure(wiring.bill_run_deps(), page, state.get("error", {}))


def close_bill_run(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.close_bill_run(wiring.bill_run_deps(), event["input"])


def fail_bill_run(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.fail_bill_run(wiring.bill_run_deps(), event["input"])


TASKS = {
    "open_bill_run": open_bill_run,
    "rate_page": rate_page,
    "record_page_failure": record_page_failure,
    "close_bill_run": close_bill_run,
    "fail_bill_run": fail_bill_run,
}


@logger.inject_lambda_context(correlation_id_path="execution", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    return run_task(TASKS, event)
