"""SQS (fed by the EventBridge rule 'event-log') -> the tenant's event log (thin adapter)."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tollgate import wiring
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def record_event(record: SQSRecord) -> None:
    # The SQS body is the whole EventBridge event; our domain event is its "detail".
    envelope = json.loads(record.body)
    wiring.event_log().append([event_from_json(envelope["detail"])])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_event, processor=processor, context=context)
