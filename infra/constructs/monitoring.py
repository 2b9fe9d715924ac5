"""Monitoring (as in the aws-lambda-handler-cookbook's ``monitoring.py``): an alarm topic, the alarms
that say something is broken, and a dashboard.

- **The alarm topic** (SNS, encrypted with a customer-managed KMS key that CloudWatch may use, TLS
  enforced). It is the alarm *and* OK action of **every** ``cloudwatch.Alarm`` in the stack, including
  the dead-letter and stream-failure alarms built by the other constructs (:meth:`Monitoring.watch_every_alarm`
  walks the construct tree, so an alarm added later cannot be forgotten). Subscribe to it with the
  context value ``alarm_email`` or any SNS subscription.
- **Alarms** (all treat missing data as "not breaching"):
  - each function: any error in 5 minutes (``Errors``);
  - each state machine: any execution failed, or timed out, in 5 minutes;
  - the API: any 5XX in 5 minutes (a 5XX is always a bug);
  - each table: any read or write throttle event in 5 minutes;
  - each DynamoDB stream consumer: ``IteratorAge`` above 5 minutes for 5 minutes (usage or events lag).
- **The dashboard**: alarm status, API traffic/errors/latency, function errors/duration, executions,
  table throttles, stream iterator age and Tollgate's business metrics (namespace ``Tollgate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import definitions
from infra.constructs.functions import METRICS_NAMESPACE
from infra.constructs.naming import pascal

PERIOD = Duration.minutes(5)
#: A stream consumer this many minutes behind delays usage (billing) or the outbox (events, dunning).
ITERATOR_AGE_MINUTES = 5


#: Reconciliation differences that mean money was billed wrong (UNBILLED_LATE_USAGE is normal until the
#: next invoice carries it).
RECONCILIATION_ALARM_KINDS = ("AGGREGATION_MISMATCH", "BILLED_MORE_THAN_USED")
NAMESPACE, SERVICE = "Tollgate", "tollgate"  # tollgate.observability (not imported: it loads Powertools)


def _business_metric(name: str, period: Duration, **dimensions: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        period=period,
        statistic=cloudwatch.Stats.SUM,
    )


class Monitoring(Construct):
    """``topic``; ``alarms[name]`` of the alarms built here; ``dashboard``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.IFunction],
        state_machines: Mapping[str, sfn.StateMachine],
        api: apigw.RestApi,
        tables: Mapping[str, dynamodb.TableV2],
        alarm_email: str | None,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.topic = self._topic(retain)
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        for name, fn in functions.items():
            self._function_alarms(name, fn)
        for name, machine in state_machines.items():
            self._execution_alarms(name, machine)
        self._alarm(
            "Api5xx",
            "The API answered a 5XX (always a bug): see the API access logs and the api function's logs.",
            api.metric_server_error(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        for name, table in tables.items():
            self._throttle_alarm(name, table)
        self._business_alarms()
        self._watched = (functions, state_machines, api, tables)
        self.dashboard: cloudwatch.Dashboard | None = None

    # -- the topic -----------------------------------------------------------------------------------
    def _topic(self, retain: bool) -> sns.Topic:
        """Encrypted with a key of our own: CloudWatch cannot publish to a topic under the AWS managed
        ``alias/aws/sns`` key, whose policy cannot grant it ``kms:GenerateDataKey``."""
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Tollgate {self.stage}: encrypts the alarm topic; CloudWatch alarms may use it.",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"tollgate-{self.stage}-alarms",
            display_name=f"Tollgate {self.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )

    def watch_every_alarm(self, scope: Construct) -> None:
        """Every alarm under ``scope`` (the stack) notifies the topic when it fires and when it clears, and
        shows on the dashboard (built here, once every construct has made its alarms)."""
        action = cloudwatch_actions.SnsAction(self.topic)
        alarms = [c for c in scope.node.find_all() if isinstance(c, cloudwatch.Alarm)]
        for alarm in alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.dashboard = self._dashboard(alarms, *self._watched)

    # -- alarms --------------------------------------------------------------------------------------
    def _alarm(
        self,
        cid: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float = 0,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            f"{cid}Alarm",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms[cid] = alarm
        return alarm

    def _function_alarms(self, name: str, fn: lambda_.IFunction) -> None:
        cid = pascal(name)
        self._alarm(
            f"{cid}Errors",
            f"Function '{name}' raised an error (an unhandled exception, a timeout or out of memory): see its log "
            "group; the X-Ray trace shows the failing call.",
            fn.metric_errors(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        if definitions.functions()[name].event_sources:
            self._alarm(
                f"{cid}IteratorAge",
                f"Function '{name}' is more than {ITERATOR_AGE_MINUTES} minutes behind its DynamoDB "
                "stream: usage or domain events are delayed (check its errors and duration).",
                fn.metric("IteratorAge", period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM),
                threshold=ITERATOR_AGE_MINUTES * 60_000,
                evaluation_periods=ITERATOR_AGE_MINUTES,
            )

    def _execution_alarms(self, name: str, machine: sfn.StateMachine) -> None:
        cid = pascal(name)
        self._alarm(
            f"{cid}ExecutionsFailed",
            f"An execution of the '{name}' state machine failed: see its execution history and log group.",
            machine.metric_failed(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )
        self._alarm(
            f"{cid}ExecutionsTimedOut",
            f"An execution of the '{name}' state machine timed out: see its execution history.",
            machine.metric_timed_out(period=PERIOD, statistic=cloudwatch.Stats.SUM),
        )

    def _business_alarms(self) -> None:
        """Money at risk, from the business metrics (``tollgate.observability.count``, namespace Tollgate)."""
        for kind in RECONCILIATION_ALARM_KINDS:
            self._alarm(
                f"Reconciliation{pascal(kind.lower())}",
                f"The daily reconciliation found {kind} differences between raw usage and what invoices carry: "
                "GET /v1/reconciliation lists them (subscription, meter, period, quantities).",
                _business_metric("ReconciliationDifferences", Duration.days(1), kind=kind),
            )
        for name, what in (
            ("ReconciliationFailures", "The reconciliation of a tenant failed: see the reconciliation function's log."),
            ("LateUsageAdjustmentFailures", "A final adjustment invoice for late usage could not be billed."),
            ("UsageNotAggregated", "A bill run gave up waiting for the aggregator: re-run it once usage is current."),
            (
                "SubscriptionClockFailures",
                "A subscription move (trial end, renewal, expiry, scheduled change) failed: it stays due and is "
                "retried each tick; see the subscription clock function's log for the subscription and the error.",
            ),
        ):
            self._alarm(name, what, _business_metric(name, PERIOD, service=SERVICE))

    @staticmethod
    def _throttles(name: str, table: dynamodb.TableV2) -> cloudwatch.IMetric:
        """Read + write throttle events of a table (ids unique per table: a graph may show several)."""
        key = re.sub(r"\W", "_", name).lower()
        return cloudwatch.MathExpression(
            expression=f"FILL(reads_{key}, 0) + FILL(writes_{key}, 0)",
            using_metrics={
                f"reads_{key}": table.metric("ReadThrottleEvents", period=PERIOD, statistic=cloudwatch.Stats.SUM),
                f"writes_{key}": table.metric("WriteThrottleEvents", period=PERIOD, statistic=cloudwatch.Stats.SUM),
            },
            label=f"{name} throttle events",
            period=PERIOD,
        )

    def _throttle_alarm(self, name: str, table: dynamodb.TableV2) -> None:
        self._alarm(
            f"{pascal(name)}TableThrottles",
            f"The '{name}' table throttled reads or writes (on-demand: a sudden peak above twice the previous "
            "one, or a hot partition key).",
            self._throttles(name, table),
        )

    # -- the dashboard -------------------------------------------------------------------------------
    def _dashboard(
        self,
        alarms: list[cloudwatch.Alarm],
        functions: Mapping[str, lambda_.IFunction],
        state_machines: Mapping[str, sfn.StateMachine],
        api: apigw.RestApi,
        tables: Mapping[str, dynamodb.TableV2],
    ) -> cloudwatch.Dashboard:
        def graph(title: str, metrics: list[cloudwatch.IMetric], width: int = 12) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=metrics, width=width, height=6)

        sum_ = cloudwatch.Stats.SUM
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"tollgate-{self.stage}")
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=6))
        dashboard.add_widgets(
            graph(
                "API requests and errors",
                [api.metric_count(statistic=sum_), api.metric_client_error(statistic=sum_), api.metric_server_error()],
            ),
            graph("API latency (p99)", [api.metric_latency(statistic="p99"), api.metric_integration_latency()]),
        )
        dashboard.add_widgets(
            graph("Function errors", [fn.metric_errors(statistic=sum_, label=n) for n, fn in functions.items()]),
            graph(
                "Function duration (p99)", [fn.metric_duration(statistic="p99", label=n) for n, fn in functions.items()]
            ),
        )
        dashboard.add_widgets(
            graph(
                "Executions failed / timed out",
                [
                    metric
                    for n, sm in state_machines.items()
                    for metric in (sm.metric_failed(label=f"{n} failed"), sm.metric_timed_out(label=f"{n} timed out"))
                ],
            ),
            graph("Executions started", [sm.metric_started(label=n) for n, sm in state_machines.items()]),
        )
        streams = [n for n in functions if definitions.functions()[n].event_sources]
        dashboard.add_widgets(
            graph("Table throttle events", [self._throttles(n, t) for n, t in tables.items()]),
            graph(
                "Stream iterator age (max)",
                [functions[n].metric("IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, label=n) for n in streams],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Business metrics (namespace Tollgate)",
                [
                    cloudwatch.MathExpression(
                        expression=f"SEARCH('Namespace=\"{METRICS_NAMESPACE}\"', 'Sum', 300)", using_metrics={}
                    )
                ],
                width=24,
            )
        )
        return dashboard
