"""The Lambda task of the subscription clock state machine (thin adapter over
tollgate.usecases.subscriptions.apply_due_transitions). Its role may read and write the main table only."""

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer
from tollgate.workflow_tasks import run_task

#: Due moves applied per invocation; the state machine loops while ``more`` is true.
LIMIT = 100


def apply_due_transitions(event: dict) -> dict:
    from tollgate.usecases.subscriptions import apply_due_transitions as apply

    page = apply(wiring.subscription_repos(), limit=LIMIT)
    # Go on while pages are full and make progress: moves that failed stay due, and a page of nothing but
    # failed moves ends this run (the next tick, 5 minutes later, tries them again).
    more = page.read == LIMIT and bool(page.applied)
    return {"applied": len(page.applied), "failed": len(page.failed), "more": more}


TASKS = {"apply_due_transitions": apply_due_transitions}


@logger.inject_lambda_context(correlation_id_path="execution", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    return run_task(TASKS, event)
