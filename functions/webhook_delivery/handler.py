"""SQS (queue 'webhooks': the EventBridge rule 'webhooks', and the delivery's own attempts) -> outbound
webhooks (thin adapter over ``tollgate.usecases.webhook_delivery``).

A message is either an EventBridge event (fanned out: one attempt message per endpoint that wants it)
or one attempt of one delivery. Each record succeeds or fails alone (partial batch failures)."""

import json

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tollgate import wiring
from tollgate.adapters.dynamodb.codec import event_from_json
from tollgate.domain.webhooks.deliveries import Task
from tollgate.observability import logger, metrics, tracer
from tollgate.usecases import webhook_delivery

processor = BatchProcessor(event_type=EventType.SQS)


def handle(record: SQSRecord) -> None:
    body = json.loads(record.body)
    deps = wiring.webhook_deps()
    if Task.KEY in body:
        outcome = webhook_delivery.attempt(deps, Task.from_json(body))
        metrics.add_metric(name=f"WebhookAttempt_{outcome}", unit=MetricUnit.Count, value=1)
    else:  # the SQS body is the whole EventBridge event; our domain event is its "detail"
        queued = webhook_delivery.fan_out(deps, event_from_json(body["detail"]))
        metrics.add_metric(name="WebhookDeliveriesQueued", unit=MetricUnit.Count, value=queued)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
