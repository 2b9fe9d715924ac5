"""SQS (fed by the EventBridge rule 'collect-payments': invoice.finalized) -> start the invoice's
dunning workflow (thin adapter). One execution per invoice: a redelivered event starts nothing new."""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tollgate import wiring
from tollgate.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def start_collection(record: SQSRecord) -> None:
    from tollgate.usecases.payments import start_collection as start

    event = json.loads(record.body)["detail"]  # the SQS body is the EventBridge event; ours is its detail
    start(wiring.payment_repos(), event["tenant_id"], event["data"]["invoice_id"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=start_collection, processor=processor, context=context)
