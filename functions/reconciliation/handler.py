"""EventBridge Scheduler (daily) -> reconcile every tenant's invoiced usage with its raw events (thin
adapter). Emits ``ReconciliationDifferences`` by kind (alarm: > 0) and ``ReconciliationFailures``."""

from tollgate import wiring
from tollgate.domain.clock import utcnow
from tollgate.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    from tollgate.usecases.reconciliation import reconcile_tenants

    tenant_ids = wiring.tenancy_repository().list_tenant_ids()
    found = reconcile_tenants(wiring.reconciliation_repos(), tenant_ids, utcnow())
    return {"tenants": len(tenant_ids), "differences": sum(len(rows) for rows in found.values())}
