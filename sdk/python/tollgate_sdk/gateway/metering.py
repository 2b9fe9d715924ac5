"""Where the middleware's meter calls go. Lambda freezes the environment as soon as the handler returns,
so a background thread cannot send afterwards: either the call is made before returning
(:class:`SyncMeterSink`, one HTTP round trip to ``POST /v1/gateway/meter`` per request, measured in
BENCHMARKS.md) or it is handed to a queue (:class:`SqsMeterSink`, one ``SendMessage``; the
:func:`sqs_meter_consumer` Lambda sends them in batches of up to 100 with the gateway's request ids, so a
redelivered message counts once).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tollgate_sdk.gateway.client import METER_PATH, GatewayClient

log = logging.getLogger("tollgate_sdk.gateway")


class MeterSink(Protocol):
    def submit(self, request: Mapping[str, Any]) -> None: ...


class SyncMeterSink:
    """Sends each meter request before the handler returns; ``seconds`` keeps each flush's duration."""

    def __init__(self, client: GatewayClient, keep_timings: int = 1000):
        self.client = client
        self.keep_timings = keep_timings
        self.seconds: list[float] = []
        self.results: list[dict[str, Any] | None] = []

    def submit(self, request: Mapping[str, Any]) -> None:
        started = time.perf_counter()
        result = self.client._post(METER_PATH, dict(request), attempts=self.client.meter_attempts)
        self.seconds.append(time.perf_counter() - started)
        self.results.append(result)
        del self.seconds[: -self.keep_timings], self.results[: -self.keep_timings]
        if result is None:
            log.error("tollgate meter call failed for request %s", request.get("request_id"))


class SqsMeterSink:
    """Hands each meter request to an SQS queue (``sqs_client`` defaults to boto3's)."""

    def __init__(self, queue_url: str, sqs_client: Any = None):
        self.queue_url = queue_url
        if sqs_client is None:
            import boto3

            sqs_client = boto3.client("sqs")
        self.sqs = sqs_client

    def submit(self, request: Mapping[str, Any]) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(dict(request)))


def sqs_meter_consumer(client: GatewayClient) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler for the queue (report batch item failures on the event source mapping)."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records") or []
        requests, ids = [], []
        failures = []
        for record in records:
            try:
                requests.append(json.loads(record["body"]))
                ids.append(record["messageId"])
            except (KeyError, ValueError, TypeError):
                log.error("unreadable meter message %s dropped", record.get("messageId"))
        for message_id, result in zip(ids, client.meter_many(requests), strict=True):
            if result is None:
                failures.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failures}

    return handler
