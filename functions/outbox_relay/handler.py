"""DynamoDB stream (main table, outbox inserts only) -> EventBridge, in batches (thin adapter)."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from tollgate import wiring
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def relay(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    if (record.event_name and record.event_name.name != "INSERT") or not image or image.get("item_type") != "OUTBOX":
        return
    wiring.event_publisher().publish([event_from_json(image["event"])])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=relay, processor=processor, context=context)
