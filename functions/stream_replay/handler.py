"""Operator-invoked: replay the batches a stream consumer gave up on (thin adapter over
tollgate.usecases.stream_replay).

Invoke with ``{"queue_url": "<a stream failure queue's URL>", "max_messages": 100}`` (the stack outputs the
failure queues' URLs; ``aws lambda invoke --function-name <stream-replay> --payload ...``). Answers what was
replayed (per failure record: the function, where the records came from, the buckets rebuilt or events
published) and what failed (kept in the queue for the next run).
"""

import json
from collections.abc import Iterator
from typing import Any

from tollgate import wiring
from tollgate.adapters import aws
from tollgate.observability import logger, metrics, tracer
from tollgate.usecases.stream_replay import replay_queue


def _receive(queue_url: str, max_messages: int) -> Iterator[tuple[dict[str, Any], Any]]:
    sqs = aws.client("sqs")
    seen = 0
    while seen < max_messages:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=min(10, max_messages - seen), VisibilityTimeout=900
        ).get("Messages", [])
        if not messages:
            return
        for m in messages:
            seen += 1
            handle = m["ReceiptHandle"]
            yield (
                json.loads(m["Body"]),
                lambda handle=handle: sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=handle),
            )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context) -> dict:
    queue_url = str(event["queue_url"])
    max_messages = max(1, min(int(event.get("max_messages", 100)), 1000))
    result = replay_queue(lambda: _receive(queue_url, max_messages), wiring.replay_deps())
    logger.info("stream replay", extra={"replayed": len(result["replayed"]), "failed": len(result["failed"])})
    return result
