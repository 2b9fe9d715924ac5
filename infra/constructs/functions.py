"""The Lambda functions, one per declaration in ``infra/definitions/functions.json``.

Each function gets its **own** IAM role holding only what its declaration grants:

- write to its own log group (explicit; no ``AWSLambdaBasicExecutionRole``),
- X-Ray segments (tracing is active),
- ``read`` / ``read_write`` data access on each declared table (``grant_read_data`` /
  ``grant_read_write_data``: item and query actions on the table and its indexes, never ``dynamodb:*``),
- ``dynamodb:PartiQL<Kind>`` on a table for each PartiQL statement kind declared in ``partiql`` (the
  read/write grants do not include them: ingestion's ``INSERT`` needs ``dynamodb:PartiQLInsert``),
- ``ses:SendEmail``/``SendRawEmail`` on the account's identities and ``ses:VerifyEmailIdentity`` on ``*``
  (it supports no resource type) if ``send_email``,
- ``events:PutEvents`` on the Tollgate bus if ``event_bus``,
- ``states:StartExecution`` on each declared state machine (granted by :mod:`.workflows`),
- read access to the platform-admin secret if ``platform_admin_secret``,
- the SQS consume actions on its queue if it consumes an event rule, and ``sqs:SendMessage`` on a rule's
  queue it is declared a sender of (granted by :mod:`.events`),
- stream read on a table's stream for each declared ``dynamodb_stream`` event source.

Stream event sources
--------------------
A declared ``event_sources`` entry of type ``dynamodb_stream`` becomes a ``DynamoEventSource`` on the
table's stream: declared batch size and filter, starting at ``TRIM_HORIZON`` (an outbox must not skip
records written before the mapping existed), partial batch failures reported (the handlers use
Powertools' ``BatchProcessor``), failing batches bisected and retried a bounded number of times, then
their metadata sent to an on-failure SQS queue with an alarm (so one poison record cannot stall the
shard for 24 h unseen).

Runtime and layers
------------------
Python 3.12 on arm64 (Graviton). Three layers, in this order:

1. the official Powertools for AWS Lambda (Python) v3 layer
   (``AWSLambdaPowertoolsPythonV3-python312-arm64``): Powertools with all its extras, pydantic v2,
   pydantic-settings, aws-xray-sdk, fastjsonschema (boto3 comes with the runtime);
2. a "dependencies" layer with the runtime packages of ``pyproject.toml`` that neither of those
   provides (today only ``iso4217``), prepared before synth by :mod:`infra.layer_build` (offline, copied
   from the virtualenv; pure Python only). It is left out when nothing needs it;
3. our own code, built from ``layers/tollgate`` *as it is* (it already has the ``python/tollgate/...``
   layer layout).

Each function's code is its plain folder under ``functions/``: no bundling, no Docker.

The Powertools layer version is the context value ``powertools_layer_version`` (``cdk.json``). The
layer version that carries a given Powertools release is published as the public SSM parameter
``/aws/service/powertools/python/arm64/python3.12/<powertools version>``; check it when bumping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from cdk_nag import RegexAppliesTo
from constructs import Construct

from infra import definitions, layer_build
from infra.constructs.dead_letters import async_dead_letter_queue
from infra.constructs.integrations import grant_gateway_integrations
from infra.constructs.naming import acknowledge, pascal

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LAYER_ACCOUNT = "017000801446"  # AWS's publishing account for the public Powertools layers
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python312-arm64"
# The highest version of that layer seen in public use when this was written (for reference, layer 32
# carried Powertools 3.28.0). The project tests with Powertools 3.37.0: before the first deploy, read the
# exact version from the SSM parameter named in the module docstring and set the context value
# ``powertools_layer_version`` (cdk.json) to it.
DEFAULT_POWERTOOLS_LAYER_VERSION = 38
SERVICE_NAME = "tollgate"
METRICS_NAMESPACE = "Tollgate"  # tollgate.observability.NAMESPACE (checked by the infra tests)
ASSET_EXCLUDE = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/.DS_Store"]

# Env vars every function gets besides its declared resources.
PLATFORM_ADMIN_SECRET_ENV = "TOLLGATE_PLATFORM_ADMIN_SECRET_ID"
STAGE_ENV = "TOLLGATE_STAGE"

# Stream event sources: bounded retries before a batch's metadata goes to the on-failure queue.
STREAM_RETRY_ATTEMPTS = 10
STREAM_MAX_RECORD_AGE = Duration.hours(6)


def powertools_layer_arn(scope: Construct, version: int) -> str:
    stack = Stack.of(scope)
    return (
        f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{POWERTOOLS_LAYER_NAME}:{version}"
    )


@dataclass(frozen=True)
class SharedResources:
    """What a function's declaration may name: tables, buckets, the bus, the platform-admin secret."""

    tables: Mapping[str, dynamodb.TableV2]
    buckets: Mapping[str, s3.IBucket]
    event_bus: events.IEventBus
    platform_admin_secret: secretsmanager.ISecret


class LambdaFunctions(Construct):
    """``functions[name]``, ``roles[name]``, ``log_groups[name]`` for each declared function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        resources: SharedResources,
        powertools_layer_version: int,
        log_retention: logs.RetentionDays,
        retain_logs: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.resources = resources
        self.log_retention = log_retention
        self.retain_logs = retain_logs
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        #: ``(function name, table name)`` -> on-failure queue / alarm of a stream event source.
        self.stream_failure_queues: dict[tuple[str, str], sqs.Queue] = {}
        self.stream_failure_alarms: dict[tuple[str, str], cloudwatch.Alarm] = {}
        self.layers = self._layers(powertools_layer_version)
        for name, decl in definitions.functions().items():
            self._function(name, decl)
        self._grant_stream_replay()

    def _grant_stream_replay(self) -> None:
        """A function that replays stream failures consumes every failure queue and reads those streams."""
        for name, decl in definitions.functions().items():
            if not decl.replays_stream_failures:
                continue
            for (_, table), queue in self.stream_failure_queues.items():
                queue.grant_consume_messages(self.roles[name])
                self.resources.tables[table].grant_stream_read(self.roles[name])

    def _layers(self, powertools_layer_version: int) -> list[lambda_.ILayerVersion]:
        """Powertools, then the dependencies layer (if anything needs it), then Tollgate's own code."""
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(self, powertools_layer_version)
        )
        self.tollgate_layer = lambda_.LayerVersion(
            self,
            "TollgateLayer",
            code=lambda_.Code.from_asset(str(definitions.REPO_ROOT / "layers" / "tollgate"), exclude=ASSET_EXCLUDE),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Tollgate domain, use cases and adapters (package tollgate).",
        )
        dependencies_dir = layer_build.build()
        self.dependencies_layer = (
            lambda_.LayerVersion(
                self,
                "DependenciesLayer",
                code=lambda_.Code.from_asset(str(dependencies_dir)),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="Runtime packages the Powertools layer and runtime lack (infra/layer_build.py).",
            )
            if dependencies_dir
            else None
        )
        middle = [self.dependencies_layer] if self.dependencies_layer else []
        return [self.powertools_layer, *middle, self.tollgate_layer]

    def _function(self, name: str, decl: definitions.Function) -> None:
        cid = pascal(name)
        code_dir = definitions.REPO_ROOT / decl.code
        if not code_dir.is_dir():
            raise FileNotFoundError(f"function '{name}': code folder {code_dir} does not exist")
        role = iam.Role(
            self,
            f"{cid}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Tollgate {self.stage} function '{name}': only the grants declared in functions.json.",
        )
        log_group = logs.LogGroup(
            self,
            f"{cid}Logs",
            retention=self.log_retention,
            removal_policy=RemovalPolicy.RETAIN if self.retain_logs else RemovalPolicy.DESTROY,
        )
        fn = lambda_.Function(
            self,
            cid,
            description=decl.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=decl.handler,
            code=lambda_.Code.from_asset(str(code_dir), exclude=ASSET_EXCLUDE),
            memory_size=decl.memory_mb,
            timeout=Duration.seconds(decl.timeout_seconds),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            layers=self.layers,
            environment=self._environment(decl),
            dead_letter_queue=async_dead_letter_queue(self, name),
        )
        log_group.grant_write(role)
        self._grant(role, decl)
        for source in decl.event_sources:
            self._add_stream_source(name, fn, source)
        self._acknowledge(fn, role, decl)
        self.functions[name] = fn
        self.roles[name] = role
        self.log_groups[name] = log_group

    def _environment(self, decl: definitions.Function) -> dict[str, str]:
        """The stage, Powertools' settings and the name of every resource the declaration names."""
        r = self.resources
        environment = {
            STAGE_ENV: self.stage,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            # pydantic would scan every installed distribution for plugins at import: cold start.
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
            # Each tenant's own API request limit (tollgate.usecases.tenant_throttle); the stage throttle is
            # only the platform's ceiling.
            "TOLLGATE_TENANT_THROTTLE": "true",
        }
        for table_name in decl.tables:
            environment[definitions.tables()[table_name].env] = r.tables[table_name].table_name
        for bucket_name in decl.buckets:
            environment[definitions.buckets()[bucket_name].env] = r.buckets[bucket_name].bucket_name
        if decl.event_bus:
            environment[definitions.events().bus.env] = r.event_bus.event_bus_name
        if decl.platform_admin_secret:
            environment[PLATFORM_ADMIN_SECRET_ENV] = r.platform_admin_secret.secret_arn
        return environment

    def _grant(self, role: iam.Role, decl: definitions.Function) -> None:
        """Exactly the grants the declaration names."""
        r = self.resources
        for table_name, access in decl.tables.items():
            if access == "read":
                r.tables[table_name].grant_read_data(role)
            else:
                r.tables[table_name].grant_read_write_data(role)
        for bucket_name, access in decl.buckets.items():
            if access == "read":
                r.buckets[bucket_name].grant_read(role)
            else:
                r.buckets[bucket_name].grant_read_write(role)
        for table_name, kinds in decl.partiql.items():
            if table_name not in decl.tables:
                raise ValueError(f"partiql on table '{table_name}', which the function does not declare")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[f"dynamodb:PartiQL{kind.capitalize()}" for kind in kinds],
                    resources=[r.tables[table_name].table_arn],
                )
            )
        if decl.send_email:
            identities = Stack.of(self).format_arn(service="ses", resource="identity", resource_name="*")
            role.add_to_policy(
                iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[identities])
            )
            # VerifyEmailIdentity supports no resource type: IAM only ever matches it against "*".
            role.add_to_policy(iam.PolicyStatement(actions=["ses:VerifyEmailIdentity"], resources=["*"]))
        if decl.event_bus:
            r.event_bus.grant_put_events_to(role)
        if decl.platform_admin_secret:
            r.platform_admin_secret.grant_read(role)
        if decl.gateway_integrations:
            grant_gateway_integrations(role, decl.gateway_integrations)

    def _add_stream_source(self, function_name: str, fn: lambda_.Function, source: definitions.StreamSource) -> None:
        if definitions.tables()[source.table].stream is None:
            raise ValueError(
                f"function '{function_name}' declares a stream source on table '{source.table}', "
                "which declares no stream"
            )
        cid = f"{pascal(function_name)}{pascal(source.table)}Stream"
        failures = sqs.Queue(
            self,
            f"{cid}FailureQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            failures,
            "Serverless-SQSRedrivePolicy",
            "This queue is itself an on-failure destination (of a stream event source): nothing consumes it "
            "automatically, so there is nowhere to redrive to; an alarm fires on its first message.",
        )
        acknowledge(
            failures,
            "AwsSolutions-SQS3",
            "This queue is itself the on-failure destination of a DynamoDB stream event source: it only "
            "receives the metadata of batches that exhausted their retries, and is watched by an alarm.",
        )
        fn.add_event_source(
            event_sources.DynamoEventSource(
                self.resources.tables[source.table],
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=source.batch_size,
                filters=[lambda_.FilterCriteria.filter(source.filter)] if source.filter else None,
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                max_record_age=STREAM_MAX_RECORD_AGE,
                on_failure=event_sources.SqsDlq(failures),
            )
        )
        self.stream_failure_queues[(function_name, source.table)] = failures
        self.stream_failure_alarms[(function_name, source.table)] = cloudwatch.Alarm(
            self,
            f"{cid}FailureAlarm",
            alarm_description=(
                f"'{function_name}' gave up on records of the '{source.table}' table stream: see the "
                "failure queue for the shard and sequence numbers."
            ),
            metric=failures.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @staticmethod
    def _acknowledge(fn: lambda_.Function, role: iam.Role, decl: definitions.Function) -> None:
        runtime = (
            "Python 3.12 on purpose: pyproject.toml pins requires-python '>=3.11,<3.13', the code is tested "
            "on that range, and the Powertools v3 layer used is the python312 build."
        )
        acknowledge(fn, "AwsSolutions-L1", runtime)
        acknowledge(fn, "Serverless-LambdaLatestVersion", runtime)
        if fn.dead_letter_queue is None:
            acknowledge(
                fn,
                "Serverless-LambdaDLQ",
                "Invoked synchronously only (API Gateway proxy or authorizer, a Step Functions lambda:invoke task "
                "that retries and catches, an event source mapping with its own failure queue): a dead-letter "
                "queue only ever receives failed asynchronous invocations.",
            )
        acknowledge(
            role,
            "AwsSolutions-IAM5",
            "X-Ray tracing is active: xray:PutTraceSegments and xray:PutTelemetryRecords do not support "
            "resource-level permissions, so Resource '*' is the only possible scope for them.",
            applies_to=["Resource::*"],
        )
        if decl.tables:
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "Query access to the global secondary indexes of the tables this function is declared to "
                "use: '<table arn>/index/*' is scoped to those tables' own indexes, nothing else.",
                applies_to=[RegexAppliesTo(regex="/^Resource::<.+\\.Arn>\\/index\\/\\*$/g")],
            )
        if decl.send_email:
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "Invoice email is sent from each tenant's own verified sender address, which is tenant data, "
                "not known at deploy time: ses:SendEmail/SendRawEmail on identity/* of this account and region only.",
                applies_to=[RegexAppliesTo(regex="/^Resource::arn:<AWS::Partition>:ses:.*:identity\\/\\*$/g")],
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "ses:VerifyEmailIdentity (submitting a tenant's new sender address for verification) supports no "
                "resource-level permission: AWS only authorizes it on Resource '*' (Service Authorization Reference).",
                applies_to=["Resource::*"],
            )
        if decl.buckets:
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                "grant_read/grant_read_write on the declared S3 buckets: object-level actions (s3:GetObject*, "
                "s3:PutObject, s3:DeleteObject*, s3:Abort*, s3:List*, s3:GetBucket*) on those buckets and their "
                "objects (<bucket>/*) only.",
                applies_to=[
                    RegexAppliesTo(regex="/^Action::s3:.*\\*$/g"),
                    RegexAppliesTo(regex="/^Resource::<.+Bucket.+\\.Arn>\\/\\*$/g"),
                ],
            )
