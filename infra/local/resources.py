"""Tollgate's resources created on moto from ``infra.definitions`` (the declarations the CDK stack
builds from): tables, buckets, the event bus with its rules and queues, the functions (registered with
the in-process dispatcher), the state machines and the schedules."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra import definitions
from infra.local import lambda_dispatch
from infra.local.environment import ACCOUNT, function_arn, function_name

#: ``client(service)`` -> a boto3 client of the running mock.
ClientFactory = Callable[[str], Any]


@dataclass
class LocalResources:
    """What the local stack created: the environment the handlers read, and where its parts are."""

    env: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    #: The on-failure destinations of the stream sources, by queue name (``event_sources.failure_queue_name``).
    stream_failure_queue_urls: dict[str, str] = field(default_factory=dict)
    state_machine_arns: dict[str, str] = field(default_factory=dict)
    platform_key: str = ""


def create_resources(
    client: ClientFactory, *, queue_visibility_seconds: int, auth_cache_ttl_seconds: int | None
) -> LocalResources:
    made = LocalResources()
    create_tables(client("dynamodb"), made)
    create_buckets(client("s3"), made)
    create_event_routing(client("events"), client("sqs"), made, queue_visibility_seconds)
    create_stream_failure_queues(client("sqs"), made)
    create_platform_credential(made, auth_cache_ttl_seconds)
    create_functions(client("lambda"), client("iam"))
    create_state_machines(client("stepfunctions"), made)
    create_schedules(client("scheduler"), made)
    return made


def _key_schema(partition: definitions.KeyAttribute, sort: definitions.KeyAttribute | None) -> list[dict]:
    return [{"AttributeName": partition.name, "KeyType": "HASH"}] + (
        [{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else []
    )


def table_request(table: definitions.Table) -> dict[str, Any]:
    """The ``CreateTable`` request of a declared table (on-demand, its indexes and stream)."""
    attributes = {k.name: k.type for k in filter(None, (table.partition_key, table.sort_key))}
    for gsi in table.global_secondary_indexes:
        attributes.update({k.name: k.type for k in filter(None, (gsi.partition_key, gsi.sort_key))})
    request: dict[str, Any] = {
        "TableName": table.local_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
    }
    if table.global_secondary_indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": g.name,
                "KeySchema": _key_schema(g.partition_key, g.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for g in table.global_secondary_indexes
        ]
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    return request


def create_tables(ddb: Any, made: LocalResources) -> None:
    for table in definitions.tables().values():
        ddb.create_table(**table_request(table))
        if table.ttl_attribute:
            ddb.update_time_to_live(
                TableName=table.local_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        made.env[table.env] = table.local_name


def create_buckets(s3: Any, made: LocalResources) -> None:
    for bucket in definitions.buckets().values():
        s3.create_bucket(Bucket=bucket.local_name)
        made.env[bucket.env] = bucket.local_name


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create_event_routing(events: Any, sqs: Any, made: LocalResources, visibility_seconds: int) -> None:
    """The bus, and per rule a queue with its dead-letter queue as the rule's target (as in the CDK stack)."""
    spec = definitions.events()
    events.create_event_bus(Name=spec.bus.name)
    made.env[spec.bus.env] = spec.bus.name
    for rule in spec.rules:
        dlq_url = sqs.create_queue(QueueName=f"tollgate-{rule.queue}-dlq")["QueueUrl"]
        redrive = {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": rule.max_receive_count}
        url = sqs.create_queue(
            QueueName=f"tollgate-{rule.queue}",
            Attributes={"VisibilityTimeout": str(visibility_seconds), "RedrivePolicy": json.dumps(redrive)},
        )["QueueUrl"]
        name = f"tollgate-{rule.name}"
        events.put_rule(Name=name, EventBusName=spec.bus.name, EventPattern=json.dumps(rule.pattern))
        events.put_targets(
            Rule=name, EventBusName=spec.bus.name, Targets=[{"Id": "queue", "Arn": _queue_arn(sqs, url)}]
        )
        made.queue_urls[rule.name] = url
        made.dlq_urls[rule.name] = dlq_url
        if rule.queue_env:
            made.env[rule.queue_env] = url


def create_platform_credential(made: LocalResources, auth_cache_ttl_seconds: int | None) -> None:
    from tollgate.domain.keys import PLATFORM_PREFIX

    made.platform_key = PLATFORM_PREFIX + secrets.token_urlsafe(32)
    # Locally the authorizer reads the credential's hash from the environment (on AWS: Secrets Manager).
    made.env["TOLLGATE_PLATFORM_ADMIN_KEY_SHA256"] = hashlib.sha256(made.platform_key.encode()).hexdigest()
    if auth_cache_ttl_seconds is not None:
        made.env["TOLLGATE_AUTH_CACHE_TTL_SECONDS"] = str(auth_cache_ttl_seconds)


_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def create_functions(lam: Any, iam: Any) -> None:
    """Each declared function exists in moto (so its ARN resolves) and runs in-process when invoked."""
    role = iam.create_role(RoleName="tollgate-local-lambda", AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))
    code = _placeholder_zip()
    for name, fn in definitions.functions().items():
        lam.create_function(
            FunctionName=function_name(name),
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler=fn.handler,
            Code={"ZipFile": code},
            Timeout=fn.timeout_seconds,
            MemorySize=fn.memory_mb,
        )
        lambda_dispatch.register(function_name(name), lazy_handler(fn))


def lazy_handler(fn: definitions.Function) -> lambda_dispatch.Handler:
    """The declared handler, imported on its first invocation (as a Lambda cold start would)."""
    loaded: dict[str, Any] = {}

    def call(event: dict, context: Any) -> Any:
        if "handler" not in loaded:
            loaded["handler"] = getattr(importlib.import_module(fn.module), fn.attribute)
        return loaded["handler"](event, context)

    return call


def create_state_machines(sfn: Any, made: LocalResources) -> None:
    for name, sm in definitions.state_machines().items():
        definition = sm.definition(sm.placeholders(function_arn, lambda b: definitions.buckets()[b].local_name))
        arn = sfn.create_state_machine(
            name=sm.local_name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/tollgate-local-sfn"
        )["stateMachineArn"]
        made.state_machine_arns[name] = arn
        made.env[sm.env] = arn


def create_schedules(scheduler: Any, made: LocalResources) -> None:
    """Stored in moto's Scheduler (which never fires them: the local stack's clock does)."""
    for s in definitions.schedules():
        scheduler.create_schedule(
            Name=f"tollgate-{s.name}",
            ScheduleExpression=s.expression,
            ScheduleExpressionTimezone=s.timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": (
                    made.state_machine_arns[s.target.state_machine]
                    if s.target.state_machine
                    else function_arn(str(s.target.function))
                ),
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/tollgate-local-scheduler",
                "Input": json.dumps(s.input),
            },
        )


def create_stream_failure_queues(sqs: Any, made: LocalResources) -> None:
    """One failure queue per stream source (the event source mapping's on-failure destination)."""
    from infra.local.event_sources import failure_queue_name

    for name, fn in definitions.functions().items():
        for source in fn.event_sources:
            queue = failure_queue_name(name, source.table)
            made.stream_failure_queue_urls[queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
