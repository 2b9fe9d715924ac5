"""The local stack: Tollgate's resources on moto, in one process, built from ``infra.definitions``.

- Tables, the event bus, rules, queues, schedules and state machines come from the same declarations
  the CDK stack uses.
- Step Functions executions run on moto's ASL interpreter; their Lambda tasks are dispatched to the
  in-process handlers (``lambda_dispatch``).
- EventBridge rules deliver to SQS as on AWS; a poller drains each queue into its consumer function
  (partial batch failures honoured, failed messages redelivered and then sent to the DLQ).
- DynamoDB stream consumers are fed by a stream poller, filters applied as Lambda would.
- Schedules fire from a local clock (moto's Scheduler stores them but never fires).
- The HTTP API is served by ``infra.local.http`` from the same Lambda handlers and authorizer.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infra import definitions
from infra.local import lambda_dispatch, moto_internals, moto_patches
from infra.local.clock import is_due
from infra.local.matching import matches

if TYPE_CHECKING:
    from moto.core.models import MockAWS

log = logging.getLogger("tollgate.local")

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    # botocore >= 1.44 sends DynamoDB Streams calls to an account endpoint moto does not route.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "MOTO_ALLOW_NONEXISTENT_REGION": "true",
    "POWERTOOLS_SERVICE_NAME": "tollgate",
    "POWERTOOLS_METRICS_NAMESPACE": "Tollgate",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "TOLLGATE_STAGE": "local",
}


def function_name(name: str) -> str:
    return f"tollgate-{name.replace('_', '-')}"


@dataclass
class Bootstrap:
    tenant_id: str
    operator_key: str
    platform_key: str


class LocalStack:
    def __init__(
        self,
        *,
        auth_cache_ttl_seconds: int | None = None,
        poll_interval_seconds: float = 0.1,
        queue_visibility_seconds: int = 2,
        run_workers: bool = True,
    ) -> None:
        self.auth_cache_ttl_seconds = auth_cache_ttl_seconds
        self.poll_interval = poll_interval_seconds
        self.queue_visibility_seconds = queue_visibility_seconds
        self.run_workers = run_workers
        self.env: dict[str, str] = {}
        self.queue_urls: dict[str, str] = {}
        self.dlq_urls: dict[str, str] = {}
        self.state_machine_arns: dict[str, str] = {}
        self.platform_key = ""
        self._mock: MockAWS | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_sequence: dict[str, str] = {}
        # A table's stream ARN never changes (and moto's DescribeTable sizes every item): looked up once.
        self._stream_arns: dict[str, str] = {}
        self._poller_clients: dict[str, Any] = {}
        # Like Lambda's event source mappings, a shard or queue is processed by one poller at a time
        # (the workers and a test's drain() must not both read the same records).
        self._stream_poll_lock = threading.Lock()
        self._queue_poll_lock = threading.Lock()
        self._clock_started = datetime.now(UTC)
        self._last_tick: datetime | None = None
        self.delivered: list[dict[str, Any]] = []  # what the queue poller handed to consumers (for tests)

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        from moto import mock_aws

        os.environ.update(LOCAL_ENV)
        self._mock = mock_aws(
            config={
                "lambda": {"use_docker": False},
                "stepfunctions": {"execute_state_machine": True},
                "core": {"service_whitelist": None},
            }
        )
        self._mock.start()
        lambda_dispatch.install()
        moto_patches.install()
        self._create_tables()
        self._create_buckets()
        self._create_events()
        self._create_platform_secret()
        self._create_functions()
        self._create_state_machines()
        self._create_schedules()
        os.environ.update(self.env)
        self._reset_process_caches()
        if self.run_workers:
            for target in (self._queue_worker, self._stream_worker, self._clock_worker):
                thread = threading.Thread(target=target, name=target.__name__, daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        lambda_dispatch.unregister_all()
        self._poller_clients.clear()
        self._stream_arns.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        moto_internals.restore_all()
        self._reset_process_caches()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _reset_process_caches() -> None:
        from tollgate import wiring
        from tollgate.adapters import aws

        aws.reset()
        wiring.reset()

    def _poller_client(self, service: str):
        """The pollers' clients, made once: a new session per poll re-reads botocore's service models
        (about 0.1 s each), which kept the workers busy and slowed every handler down."""
        cached = self._poller_clients.get(service)
        if cached is None:
            cached = self._poller_clients[service] = self.client(service)
        return cached

    @staticmethod
    def client(service: str):
        import boto3

        return boto3.session.Session(region_name=REGION).client(service)

    # -- resources from the declarations --------------------------------------------------------------
    def _create_tables(self) -> None:
        ddb = self.client("dynamodb")
        for table in definitions.tables().values():
            keys = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
            attrs = {k.name: k.type for k in keys}
            for gsi in table.global_secondary_indexes:
                for k in filter(None, (gsi.partition_key, gsi.sort_key)):
                    attrs[k.name] = k.type
            kwargs: dict[str, Any] = {
                "TableName": table.local_name,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attrs.items()],
                "KeySchema": [{"AttributeName": table.partition_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": table.sort_key.name, "KeyType": "RANGE"}] if table.sort_key else []),
            }
            if table.global_secondary_indexes:
                kwargs["GlobalSecondaryIndexes"] = [
                    {
                        "IndexName": g.name,
                        "KeySchema": [{"AttributeName": g.partition_key.name, "KeyType": "HASH"}]
                        + ([{"AttributeName": g.sort_key.name, "KeyType": "RANGE"}] if g.sort_key else []),
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for g in table.global_secondary_indexes
                ]
            if table.stream:
                kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
            ddb.create_table(**kwargs)
            if table.ttl_attribute:
                ddb.update_time_to_live(
                    TableName=table.local_name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            self.env[table.env] = table.local_name

    def _create_buckets(self) -> None:
        s3 = self.client("s3")
        for bucket in definitions.buckets().values():
            s3.create_bucket(Bucket=bucket.local_name)
            self.env[bucket.env] = bucket.local_name

    def _create_events(self) -> None:
        spec = definitions.events()
        events, sqs = self.client("events"), self.client("sqs")
        events.create_event_bus(Name=spec.bus.name)
        self.env[spec.bus.env] = spec.bus.name
        for rule in spec.rules:
            dlq_url = sqs.create_queue(QueueName=f"tollgate-{rule.queue}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(
                QueueName=f"tollgate-{rule.queue}",
                Attributes={
                    "VisibilityTimeout": str(self.queue_visibility_seconds),
                    "RedrivePolicy": json.dumps(
                        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": rule.max_receive_count}
                    ),
                },
            )["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(
                Name=f"tollgate-{rule.name}", EventBusName=spec.bus.name, EventPattern=json.dumps(rule.pattern)
            )
            events.put_targets(
                Rule=f"tollgate-{rule.name}", EventBusName=spec.bus.name, Targets=[{"Id": "queue", "Arn": arn}]
            )
            self.queue_urls[rule.name] = url
            self.dlq_urls[rule.name] = dlq_url

    def _create_platform_secret(self) -> None:
        import secrets

        from tollgate.domain.keys import PLATFORM_PREFIX

        self.platform_key = PLATFORM_PREFIX + secrets.token_urlsafe(32)
        # Locally the authorizer reads the credential's hash from the environment (on AWS: Secrets Manager).
        self.env["TOLLGATE_PLATFORM_ADMIN_KEY_SHA256"] = hashlib.sha256(self.platform_key.encode()).hexdigest()
        if self.auth_cache_ttl_seconds is not None:
            self.env["TOLLGATE_AUTH_CACHE_TTL_SECONDS"] = str(self.auth_cache_ttl_seconds)

    def _create_functions(self) -> None:
        lam = self.client("lambda")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
        role = self.client("iam").create_role(
            RoleName="tollgate-local-lambda",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        for name, fn in definitions.functions().items():
            lam.create_function(
                FunctionName=function_name(name),
                Runtime="python3.12",
                Role=role,
                Handler=fn.handler,
                Code={"ZipFile": buf.getvalue()},
                Timeout=fn.timeout_seconds,
                MemorySize=fn.memory_mb,
            )
            lambda_dispatch.register(function_name(name), self._lazy_handler(fn))

    @staticmethod
    def _lazy_handler(fn: definitions.Function):
        loaded: dict[str, Any] = {}

        def call(event: dict, context: Any) -> Any:
            if "handler" not in loaded:
                loaded["handler"] = getattr(importlib.import_module(fn.module), fn.attribute)
            return loaded["handler"](event, context)

        return call

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(name)}"

    def _create_state_machines(self) -> None:
        sfn = self.client("stepfunctions")
        for name, sm in definitions.state_machines().items():
            definition = sm.definition({ph: self.function_arn(fn) for ph, fn in sm.functions.items()})
            arn = sfn.create_state_machine(
                name=sm.local_name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/tollgate-local-sfn"
            )["stateMachineArn"]
            self.state_machine_arns[name] = arn
            self.env[sm.env] = arn

    def _create_schedules(self) -> None:
        scheduler = self.client("scheduler")
        for s in definitions.schedules():
            scheduler.create_schedule(
                Name=f"tollgate-{s.name}",
                ScheduleExpression=s.expression,
                ScheduleExpressionTimezone=s.timezone,
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={
                    "Arn": self.state_machine_arns[s.target.state_machine],
                    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/tollgate-local-scheduler",
                    "Input": json.dumps(s.input),
                },
            )

    # -- what a user of the local stack calls --------------------------------------------------------
    def bootstrap_tenant(self, name: str = "Local tenant") -> Bootstrap:
        from tollgate import wiring
        from tollgate.usecases.tenancy import create_tenant

        with lambda_dispatch.LOCK:
            tenant, issued = create_tenant(wiring.tenancy_repository(), name=name)
        return Bootstrap(tenant.tenant_id, issued.secret, self.platform_key)

    def exclusive(self):
        """Hold the in-process Lambda lock: code outside a handler (a test, a script) that calls AWS
        directly while the workers run must do it under this lock, as the handlers do."""
        return lambda_dispatch.LOCK

    def invoke(self, name: str, event: Any) -> Any:
        """Invoke a declared function in-process, as Lambda would."""
        return lambda_dispatch.invoke_local(function_name(name), event)

    def fire_schedule(self, schedule_name: str) -> str:
        """Start what the named schedule starts, now (what the clock does when it is due)."""
        s = next(x for x in definitions.schedules() if x.name == schedule_name)
        # Scheduler names executions itself; a unique name per firing, as AWS does.
        return self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arns[s.target.state_machine],
            name=f"{s.name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{os.urandom(3).hex()}",
            input=json.dumps(s.input),
        )["executionArn"]

    def wait_for_execution(self, execution_arn: str, timeout: float = 60.0) -> dict:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            desc = sfn.describe_execution(executionArn=execution_arn)
            if desc["status"] != "RUNNING":
                return desc
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout}s")
            time.sleep(0.1)

    def drain(self, rounds: int = 3) -> None:
        """Deliver everything pending now: streams, then queues (tests call this instead of sleeping)."""
        for _ in range(rounds):
            self.poll_streams()
            self.poll_queues()

    # -- workers ---------------------------------------------------------------------------------------
    def _loop(self, step, interval: float) -> None:
        while not self._stop.is_set():
            try:
                step()
            except Exception:  # keep the worker alive; the failure is logged
                log.exception("local stack worker step failed")
            self._stop.wait(interval)

    def _queue_worker(self) -> None:
        self._loop(self.poll_queues, self.poll_interval)

    def _stream_worker(self) -> None:
        self._loop(self.poll_streams, self.poll_interval)

    def _clock_worker(self) -> None:
        self._loop(self.tick, 1.0)

    def poll_queues(self) -> int:
        with self._queue_poll_lock:
            return self._poll_queues()

    def _poll_queues(self) -> int:
        sqs = self._poller_client("sqs")
        delivered = 0
        for rule in definitions.events().rules:
            url = self.queue_urls[rule.name]
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(rule.batch_size, 10), AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                continue
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            event = {
                "Records": [
                    {
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "body": m["Body"],
                        "attributes": m.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": m.get("MD5OfBody", ""),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": arn,
                        "awsRegion": REGION,
                    }
                    for m in messages
                ]
            }
            try:
                result = lambda_dispatch.invoke_local(function_name(rule.consumer), event) or {}
            except Exception:
                log.exception("consumer %s failed a whole batch", rule.consumer)
                continue  # nothing deleted: the batch comes back after the visibility timeout
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            done = [m for m in messages if m["MessageId"] not in failed]
            for m in done:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                self.delivered.append({"rule": rule.name, "consumer": rule.consumer, "body": json.loads(m["Body"])})
            delivered += len(done)
        return delivered

    def poll_streams(self) -> int:
        with self._stream_poll_lock:
            return self._poll_streams()

    def _poll_streams(self) -> int:
        ddb, streams = self._poller_client("dynamodb"), self._poller_client("dynamodbstreams")
        delivered = 0
        for name, fn in definitions.functions().items():
            for source in fn.event_sources:
                table = definitions.tables()[source.table]
                stream_arn = self._stream_arns.get(table.local_name)
                if stream_arn is None:
                    stream_arn = ddb.describe_table(TableName=table.local_name)["Table"]["LatestStreamArn"]
                    self._stream_arns[table.local_name] = stream_arn
                for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
                    delivered += self._poll_shard(name, source, streams, stream_arn, shard["ShardId"])
        return delivered

    def _poll_shard(self, name: str, source, streams, stream_arn: str, shard_id: str) -> int:
        """Read a shard from the last delivered record on, with a fresh iterator each time: moto
        replaces a table object when a transaction is cancelled, which strands older iterators."""
        key = f"{name}|{shard_id}"
        delivered = 0
        while True:
            last = self._last_sequence.get(key)
            position = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            with moto_patches.TX_LOCK:  # never read in the middle of a transaction
                iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)[
                    "ShardIterator"
                ]
                page = streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
            records = [dict(r, eventSourceARN=stream_arn) for r in page.get("Records", [])]
            if not records:
                return delivered
            selected = [r for r in records if not source.filter or matches(source.filter, r)]
            if selected:
                self._deliver_stream_batch(name, selected)
                delivered += len(selected)
            self._last_sequence[key] = records[-1]["dynamodb"]["SequenceNumber"]

    def _deliver_stream_batch(self, name: str, records: list[dict]) -> None:
        # Like Lambda's event source mapping: retry a failing batch (bounded), in order.
        for attempt in range(3):
            try:
                result = lambda_dispatch.invoke_local(function_name(name), {"Records": records}) or {}
            except Exception:
                log.exception("stream consumer %s failed (attempt %d)", name, attempt + 1)
                continue
            failures = result.get("batchItemFailures", [])
            if not failures:
                return
            first = failures[0]["itemIdentifier"]
            records = records[next(i for i, r in enumerate(records) if r["dynamodb"].get("SequenceNumber") == first) :]
        log.error("stream consumer %s gave up on %d records", name, len(records))

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire the schedules due in the current minute (once per minute)."""
        minute = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
        if self._last_tick == minute:
            return []
        self._last_tick = minute
        started = []
        for s in definitions.schedules():
            if is_due(s.expression, minute, self._clock_started):
                started.append(self.fire_schedule(s.name))
        return started
