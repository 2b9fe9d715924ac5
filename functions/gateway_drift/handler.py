"""EventBridge Scheduler (hourly) -> the drift check of every product gateway link (thin adapter).

Each link's gateway is read and diffed with what Tollgate would push; a link that drifted becomes STALE
(``product.gateway_stale``). Emits ``GatewayLinksChecked``, ``GatewayLinksStale`` and
``GatewayDriftCheckFailures`` (a link that could not be checked at all; its error is logged)."""

from aws_lambda_powertools.metrics import MetricUnit

from tollgate import wiring_gateway_sync
from tollgate.domain.clock import utcnow
from tollgate.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    from tollgate.usecases.gateway_sync import check_all

    run = check_all(wiring_gateway_sync.sync_deps(), utcnow())
    metrics.add_metric(name="GatewayLinksChecked", unit=MetricUnit.Count, value=run.checked)
    metrics.add_metric(name="GatewayLinksStale", unit=MetricUnit.Count, value=run.stale)
    metrics.add_metric(name="GatewayDriftCheckFailures", unit=MetricUnit.Count, value=run.failed)
    return {"checked": run.checked, "stale": run.stale, "failed": run.failed}
