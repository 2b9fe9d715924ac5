"""SQS (fed by the EventBridge rule 'gateway-access') -> rebuild the gateway access snapshots the event
changes (thin adapter over tollgate.usecases.gateway.events)."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tollgate import wiring
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.observability import logger, metrics, tracer
from tollgate.usecases.gateway.events import on_event

processor = BatchProcessor(event_type=EventType.SQS)


def refresh(record: SQSRecord) -> None:
    envelope = json.loads(record.body)
    on_event(wiring.gateway_repos(), event_from_json(envelope["detail"]))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=refresh, processor=processor, context=context)
