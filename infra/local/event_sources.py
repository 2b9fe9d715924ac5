"""Lambda's event source mappings, locally: SQS queues and DynamoDB streams polled into their consumers.

- :class:`QueuePoller`: each event rule's queue is read in batches of the declared size and handed to
  the rule's consumer as an SQS event; partial batch failures are honoured (a failed message is not
  deleted: it comes back after the visibility timeout, and reaches the DLQ after ``max_receive_count``).
- :class:`StreamPoller`: each declared ``dynamodb_stream`` source reads its table's stream, applies the
  declared filter as Lambda would, and retries a failing batch (bounded) from the first failed record; a
  batch that fails past its retries sends Lambda's on-failure record (metadata only: shard, first and last
  sequence numbers, stream ARN) to the source's failure queue, as the event source mapping does on AWS.

Like Lambda, a queue or a shard is processed by one poller at a time: the background workers and a
test's ``drain()`` never read the same records.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra import definitions
from infra.local import lambda_dispatch, moto_patches
from infra.local.aws_calls import calls_of
from infra.local.environment import REGION, function_arn, function_name
from infra.local.matching import matches

log = logging.getLogger("tollgate.local")

#: ``client(service)`` -> a boto3 client, made once per poller (a new session per poll re-reads
#: botocore's service models, about 0.1 s each, which kept the workers busy).
ClientFactory = Callable[[str], Any]

STREAM_BATCH_ATTEMPTS = 3


def _sqs_record(message: dict, queue_arn: str) -> dict:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller:
    """The SQS event sources of the event rules' consumers."""

    def __init__(self, client: ClientFactory, queue_urls: dict[str, str]) -> None:
        self._client = client
        self._queue_urls = queue_urls
        self._lock = threading.Lock()
        self._queue_arns: dict[str, str] = {}
        #: What was handed to consumers and succeeded (tests read it).
        self.delivered: list[dict[str, Any]] = []

    def poll(self) -> int:
        with self._lock:
            return sum(self._poll_rule(rule) for rule in definitions.events().rules)

    def _queue_arn(self, sqs: Any, url: str) -> str:
        if url not in self._queue_arns:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
            self._queue_arns[url] = attributes["QueueArn"]
        return self._queue_arns[url]

    def _poll_rule(self, rule: definitions.Rule) -> int:
        sqs, url = self._client("sqs"), self._queue_urls[rule.name]
        with calls_of(rule.consumer):  # the event source mapping reads with the consumer's role
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(rule.batch_size, 10), AttributeNames=["All"]
            ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [_sqs_record(m, self._queue_arn(sqs, url)) for m in messages]}
        try:
            result = lambda_dispatch.invoke_local(function_name(rule.consumer), event) or {}
        except Exception:
            log.exception("consumer %s failed a whole batch", rule.consumer)
            return 0  # nothing deleted: the batch comes back after the visibility timeout
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for m in done:
            with calls_of(rule.consumer):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            self.delivered.append({"rule": rule.name, "consumer": rule.consumer, "body": json.loads(m["Body"])})
        return len(done)


def failure_queue_name(function: str, table: str) -> str:
    """The on-failure destination of a function's stream source (an SQS queue, as in the CDK stack)."""
    return f"{function_name(function)}-{table}-stream-failures"


def failure_record(function: str, records: list[dict], stream_arn: str, attempts: int) -> dict[str, Any]:
    """What Lambda sends to a stream source's on-failure destination: metadata, never the records."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn(function),
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": records[0].get("_shardId", ""),
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _arrival(first),
            "approximateArrivalOfLastRecord": _arrival(last),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def _arrival(ddb: dict[str, Any]) -> str:
    at = ddb.get("ApproximateCreationDateTime")
    if isinstance(at, int | float):
        at = datetime.fromtimestamp(at, UTC)
    if not isinstance(at, datetime):
        at = datetime.now(UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class StreamPoller:
    """The DynamoDB stream event sources declared on functions."""

    def __init__(self, client: ClientFactory, failure_queue_urls: dict[str, str] | None = None) -> None:
        self._client = client
        self._failure_queue_urls = failure_queue_urls or {}
        self._lock = threading.Lock()
        self._last_sequence: dict[str, str] = {}
        # A table's stream ARN never changes (and moto's DescribeTable sizes every item): looked up once.
        self._stream_arns: dict[str, str] = {}

    def poll(self, only: str | None = None) -> int:
        """Deliver what is pending on every stream source (or only those of the function ``only``)."""
        with self._lock:
            return sum(
                self._poll_source(name, source)
                for name, fn in definitions.functions().items()
                if only in (None, name)
                for source in fn.event_sources
            )

    def _stream_arn(self, table: definitions.Table) -> str:
        if table.local_name not in self._stream_arns:
            description = self._client("dynamodb").describe_table(TableName=table.local_name)["Table"]
            self._stream_arns[table.local_name] = description["LatestStreamArn"]
        return self._stream_arns[table.local_name]

    def _poll_source(self, name: str, source: definitions.StreamSource) -> int:
        stream_arn = self._stream_arn(definitions.tables()[source.table])
        with calls_of(name):  # the event source mapping reads the stream with the function's role
            streams = self._client("dynamodbstreams")
            shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            return sum(self._poll_shard(name, source, stream_arn, shard["ShardId"]) for shard in shards)

    def _read(self, key: str, stream_arn: str, shard_id: str, limit: int) -> list[dict]:
        """The shard's records after the last delivered one, with a fresh iterator each time: moto
        replaces a table object when a transaction is cancelled, which strands older iterators."""
        streams = self._client("dynamodbstreams")
        last = self._last_sequence.get(key)
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            if last
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        with moto_patches.TX_LOCK:  # never read in the middle of a transaction
            iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)
            page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=limit)
        return [dict(r, eventSourceARN=stream_arn, _shardId=shard_id) for r in page.get("Records", [])]

    def _poll_shard(self, name: str, source: definitions.StreamSource, stream_arn: str, shard_id: str) -> int:
        key = f"{name}|{shard_id}"
        delivered = 0
        while records := self._read(key, stream_arn, shard_id, source.batch_size):
            selected = [r for r in records if not source.filter or matches(source.filter, r)]
            if selected:
                given_up = deliver_stream_batch(name, selected)
                if given_up:
                    self._send_failure(name, source, given_up, stream_arn)
                delivered += len(selected)
            self._last_sequence[key] = records[-1]["dynamodb"]["SequenceNumber"]
        return delivered

    def _send_failure(self, name: str, source: definitions.StreamSource, records: list[dict], arn: str) -> None:
        url = self._failure_queue_urls.get(failure_queue_name(name, source.table))
        if url:
            body = json.dumps(failure_record(name, records, arn, STREAM_BATCH_ATTEMPTS))
            self._client("sqs").send_message(QueueUrl=url, MessageBody=body)


def deliver_stream_batch(name: str, records: list[dict]) -> list[dict]:
    """Like Lambda's event source mapping: retry a failing batch (bounded), in order, from the first
    record the function reported as failed. Returns the records given up on (none when delivered)."""
    for attempt in range(STREAM_BATCH_ATTEMPTS):
        try:
            event = {"Records": [{k: v for k, v in r.items() if k != "_shardId"} for r in records]}
            result = lambda_dispatch.invoke_local(function_name(name), event) or {}
        except Exception:
            log.exception("stream consumer %s failed (attempt %d)", name, attempt + 1)
            continue
        failures = result.get("batchItemFailures", [])
        if not failures:
            return []
        first = failures[0]["itemIdentifier"]
        records = records[next(i for i, r in enumerate(records) if r["dynamodb"].get("SequenceNumber") == first) :]
    log.error("stream consumer %s gave up on %d records", name, len(records))
    return records
