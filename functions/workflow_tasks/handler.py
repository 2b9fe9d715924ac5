"""The Lambda tasks of the state machines (thin adapter: task name -> use case)."""

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer


def _open(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.open_bill_run(wiring.bill_run_deps(), event.get("input") or {}, event.get("execution", ""))


def _rate(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.rate_page(wiring.bill_run_deps(), wiring.biller(), event["input"])


def _page_failed(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    state = event["input"]
    page = {k: v for k, v in state.items() if k != "error"}
    return bill_runs.record_page_failure(wiring.bill_run_deps(), page, state.get("error", {}))


def _close(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.close_bill_run(wiring.bill_run_deps(), event["input"]["bill_runs"])


def _fail(event: dict) -> dict:
    from tollgate.usecases import bill_runs

    return bill_runs.fail_bill_run(wiring.bill_run_deps(), event["input"])


def _clock(event: dict) -> dict:
    from tollgate.usecases.subscriptions import apply_due_transitions

    limit = 100
    applied = apply_due_transitions(wiring.subscription_repos(), limit=limit)
    return {"applied": len(applied), "more": len(applied) == limit}


def _plan_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.plan_bulk_migration(
        wiring.subscription_repos(), wiring.migration_repository(), i["tenant_id"], i["migration_id"]
    )


def _migrate_page(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.migrate_page(
        wiring.subscription_repos(),
        wiring.migration_repository(),
        i["tenant_id"],
        i["migration_id"],
        i["subscription_ids"],
    )


def _close_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.close_bulk_migration(wiring.migration_repository(), i["tenant_id"], i["migration_id"])


def _fail_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.fail_bulk_migration(
        wiring.migration_repository(), i["tenant_id"], i["migration_id"], i.get("error", {})
    )


def _plan_dunning(event: dict) -> dict:
    from tollgate.domain.clock import to_rfc3339
    from tollgate.usecases import payments

    i = event["input"]
    step = payments.plan_dunning(wiring.payment_repos(), i["tenant_id"], i["invoice_id"])
    return {
        "tenant_id": i["tenant_id"],
        "invoice_id": i["invoice_id"],
        "done": step.done,
        "reason": step.reason,
        "attempt": step.number,
        "wait_seconds": step.wait_seconds,
        "attempt_at": to_rfc3339(step.at) if step.at else None,
    }


def _attempt_payment(event: dict) -> dict:
    from tollgate.usecases import payments

    i = event["input"]
    trigger = "automatic" if i["attempt"] == 1 else "dunning"
    outcome = payments.attempt_payment(
        wiring.payment_repos(), i["tenant_id"], i["invoice_id"], trigger=trigger, number=i["attempt"]
    )
    return {"tenant_id": i["tenant_id"], "invoice_id": i["invoice_id"], "last": outcome.to_json()}


TASKS = {
    "plan_dunning_attempt": _plan_dunning,
    "attempt_dunning_payment": _attempt_payment,
    "open_bill_run": _open,
    "rate_page": _rate,
    "record_page_failure": _page_failed,
    "close_bill_run": _close,
    "fail_bill_run": _fail,
    "apply_due_transitions": _clock,
    "plan_bulk_migration": _plan_migration,
    "migrate_page": _migrate_page,
    "close_bulk_migration": _close_migration,
    "fail_bulk_migration": _fail_migration,
}


class UnknownTask(Exception):
    pass


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    task = TASKS.get(event.get("task", ""))
    if task is None:
        raise UnknownTask(f"unknown task {event.get('task')!r}; known: {sorted(TASKS)}")
    return task(event)
