"""The Lambda tasks of the dunning state machine (thin adapter: task name -> tollgate.usecases.payments).

Its role may read and write the main table and start the next generation of its own state machine
(continue-as-new): nothing else (the payment provider is called over HTTPS with the tenant's own
credentials, read from its payment settings)."""

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer
from tollgate.workflow_tasks import run_task


def plan_dunning_attempt(event: dict) -> dict:
    from tollgate.domain.clock import to_rfc3339
    from tollgate.usecases import payments

    i = event["input"]
    step = payments.plan_dunning(wiring.payment_repos(), i["tenant_id"], i["invoice_id"])
    return {
        **payments.loop_counters(i),
        "tenant_id": i["tenant_id"],
        "invoice_id": i["invoice_id"],
        "done": step.done,
        "reason": step.reason,
        "attempt": step.number,
        "wait_seconds": step.wait_seconds,
        "attempt_at": to_rfc3339(step.at) if step.at else None,
    }


def attempt_dunning_payment(event: dict) -> dict:
    from tollgate.usecases import payments

    i = event["input"]
    trigger = "automatic" if i["attempt"] == 1 else "dunning"
    outcome = payments.attempt_payment(
        wiring.payment_repos(), i["tenant_id"], i["invoice_id"], trigger=trigger, number=i["attempt"]
    )
    return {
        **payments.loop_counters(i),
        "tenant_id": i["tenant_id"],
        "invoice_id": i["invoice_id"],
        "last": outcome.to_json(),
    }


def continue_dunning(event: dict) -> dict:
    from tollgate.usecases import payments

    nxt = payments.plan_continuation(event["input"], event.get("execution", ""))
    arn = wiring.workflow_starter().start_at(event["state_machine"], nxt["name"], nxt["input"])
    return {"continued_as": arn}


TASKS = {
    "plan_dunning_attempt": plan_dunning_attempt,
    "attempt_dunning_payment": attempt_dunning_payment,
    "continue_dunning": continue_dunning,
}


@logger.inject_lambda_context(correlation_id_path="execution", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    return run_task(TASKS, event)
