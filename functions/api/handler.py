"""The REST API function: every route of tollgate.api, each route group's resolver built on first use
(thin adapter). Logs carry API Gateway's request id as the correlation id."""

from aws_lambda_powertools.logging import correlation_paths

from tollgate.api.entry import lambda_entry
from tollgate.api.grouped import GroupedApi
from tollgate.observability import logger, metrics, tracer

_entry = lambda_entry(GroupedApi())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    return _entry(event, context)
