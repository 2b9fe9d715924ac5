"""DynamoDB stream (events table, raw event inserts only) -> hourly usage buckets (thin adapter), then the
gateway access snapshots of the customers whose usage changed.

Lambda hands over one shard's records in order; a failure raises, and Lambda redelivers the batch
(bisected, bounded retries): the aggregation is exactly once over redeliveries (tollgate.usecases.usage).
It relies on records of one partition key arriving in order, one batch at a time: keep the event source
mapping's ParallelizationFactor at 1 (the default).
"""

from tollgate import wiring
from tollgate.adapters.dynamodb.usage_events import decode_stream_record
from tollgate.observability import logger, metrics, tracer
from tollgate.usecases.gateway.snapshots import refresh_customers
from tollgate.usecases.usage import aggregate


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    records = event.get("Records") or []
    events = [e for e in map(decode_stream_record, records) if e is not None]
    if events:
        aggregate(events, wiring.usage_store())
        # Gateway access snapshots show each customer's usage of the period: rebuilt after the fold.
        refresh_customers(wiring.gateway_repos(), {(e.tenant_id, e.customer_id) for e in events})
    wiring.usage_watermarks().record(records)  # after the batch is folded: the bill run waits for these
    return {"batchItemFailures": []}
