"""The Lambda tasks of the bulk migration state machine (thin adapter: task name ->
tollgate.usecases.migrations). Its role may read and write the main table and the manifests bucket."""

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer
from tollgate.workflow_tasks import run_task


def plan_bulk_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.plan_bulk_migration(
        wiring.subscription_repos(),
        wiring.migration_repository(),
        wiring.manifests(),
        i["tenant_id"],
        i["migration_id"],
    )


def migrate_page(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.migrate_page(
        wiring.subscription_repos(),
        wiring.migration_repository(),
        i["tenant_id"],
        i["migration_id"],
        i["subscription_ids"],
    )


def record_page_failure(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.record_page_failure(
        wiring.migration_repository(), i["tenant_id"], i["migration_id"], i["subscription_ids"], i.get("error", {})
    )


def close_bulk_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.close_bulk_migration(wiring.migration_repository(), i["tenant_id"], i["migration_id"])


def fail_bulk_migration(event: dict) -> dict:
    from tollgate.usecases import migrations

    i = event["input"]
    return migrations.fail_bulk_migration(
        wiring.migration_repository(), i["tenant_id"], i["migration_id"], i.get("error", {})
    )


TASKS = {
    "plan_bulk_migration": plan_bulk_migration,
    "migrate_page": migrate_page,
    "record_page_failure": record_page_failure,
    "close_bulk_migration": close_bulk_migration,
    "fail_bulk_migration": fail_bulk_migration,
}


@logger.inject_lambda_context(correlation_id_path="execution", clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    return run_task(TASKS, event)
