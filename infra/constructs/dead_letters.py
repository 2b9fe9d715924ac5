"""Dead-letter queues of the functions invoked asynchronously (the targets of EventBridge Scheduler).

Lambda retries a failed asynchronous invocation twice, then drops the event unless the function has a
dead-letter queue. Every other function is invoked synchronously (API Gateway, a Step Functions
``lambda:invoke`` task, an event source mapping), where a dead-letter queue would never receive anything.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import definitions
from infra.constructs.naming import acknowledge, pascal


def async_targets() -> set[str]:
    """The functions a schedule invokes (asynchronously)."""
    return {str(s.target.function) for s in definitions.schedules() if s.target.function}


def async_dead_letter_queue(scope: Construct, name: str) -> sqs.Queue | None:
    """The function's dead-letter queue (encrypted, TLS only, kept 14 days) with an alarm on its first
    message, if a schedule invokes it; ``None`` otherwise."""
    if name not in async_targets():
        return None
    queue = sqs.Queue(
        scope,
        f"{pascal(name)}DeadLetterQueue",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    reason = "This queue is itself the dead-letter queue of an asynchronously invoked function; it alarms."
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    acknowledge(queue, "Serverless-SQSRedrivePolicy", reason)
    cloudwatch.Alarm(
        scope,
        f"{pascal(name)}DeadLetterAlarm",
        alarm_description=f"A scheduled invocation of '{name}' failed past Lambda's retries: see its DLQ.",
        metric=queue.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
        ),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    return queue
