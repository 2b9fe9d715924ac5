"""The event bus and its rules, from ``infra/definitions/events.json``.

Each rule delivers to its own SQS queue (SSE with SQS-managed keys, TLS enforced) with a dead-letter
queue after ``max_receive_count`` receives; an alarm fires as soon as a DLQ holds a message. The
consumer Lambda reads the queue through an SQS event source (declared batch size, partial batch
failures reported). This is the pattern that runs unchanged on moto locally (EventBridge -> SQS).

EventBridge delivery failures (e.g. a queue policy problem) go to the same DLQ, so one alarm covers
both "EventBridge could not deliver" and "the consumer kept failing".
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions
from infra.constructs.naming import pascal

# Keys of an EventBridge pattern -> keyword of ``events.EventPattern``.
_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "time": "time",
    "version": "version",
    "id": "id",
}

# AWS guidance for Lambda consumers of SQS: visibility timeout >= 6 x the function timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


def event_pattern(pattern: Mapping) -> events.EventPattern:
    unknown = set(pattern) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"event pattern fields not supported by the CDK stack: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: _matchers(value) for key, value in pattern.items()})


def _matchers(value):
    """A list of values stays as it is; one with ``{"prefix": ...}`` entries becomes CDK matchers (the
    rendered pattern is the same JSON)."""
    if not isinstance(value, list) or not any(isinstance(v, Mapping) for v in value):
        return value
    parts = [
        events.Match.prefix(v["prefix"]) if isinstance(v, Mapping) else events.Match.exact_string(v) for v in value
    ]
    return parts[0] if len(parts) == 1 else events.Match.any_of(*parts)


class EventRouting(Construct):
    """``bus``; per rule name: ``rules``, ``queues``, ``dead_letter_queues``, ``alarms``."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        decl = definitions.events()
        functions = definitions.functions()
        self.bus = events.EventBus(
            self,
            "Bus",
            event_bus_name=f"{decl.bus.name}-{stage}",
            description=f"Tollgate ({stage}) domain events, source '{decl.bus.source}'.",
        )
        self.rules: dict[str, events.Rule] = {}
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        for rule in decl.rules:
            self._route(rule, functions[rule.consumer])

    def _route(self, rule: definitions.Rule, consumer: definitions.Function) -> None:
        """The rule's queue (with its DLQ) as its target, and an alarm on the DLQ."""
        cid = pascal(rule.name)
        dlq = sqs.Queue(
            self,
            f"{cid}DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        queue = sqs.Queue(
            self,
            f"{cid}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(consumer.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=rule.max_receive_count),
        )
        self.rules[rule.name] = events.Rule(
            self,
            f"{cid}Rule",
            event_bus=self.bus,
            description=rule.description,
            event_pattern=event_pattern(rule.pattern),
            targets=[targets.SqsQueue(queue, dead_letter_queue=dlq)],
        )
        self.alarms[rule.name] = cloudwatch.Alarm(
            self,
            f"{cid}DeadLetterAlarm",
            alarm_description=(
                f"Messages of rule '{rule.name}' reached its dead-letter queue: the consumer "
                f"'{rule.consumer}' failed them {rule.max_receive_count} times, or EventBridge could not deliver."
            ),
            metric=dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.queues[rule.name] = queue
        self.dead_letter_queues[rule.name] = dlq

    def attach_consumers(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """Each rule's consumer reads its queue (grants only the consume actions on that queue)."""
        for rule in definitions.events().rules:
            functions[rule.consumer].add_event_source(
                event_sources.SqsEventSource(
                    self.queues[rule.name],
                    batch_size=rule.batch_size,
                    report_batch_item_failures=True,
                )
            )
