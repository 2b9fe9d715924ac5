"""``TollgateStack``: Tollgate on AWS serverless, composed of one construct per concern.

Everything is built from the declarations in :mod:`infra.definitions` (the same ones the local stack on
moto uses), so adding a table, function, rule, schedule, route or state machine there is all it takes.

Composition order (each step only needs what the previous ones made):

1. :class:`~infra.constructs.data.DataTables` — the DynamoDB tables.
2. :class:`~infra.constructs.secrets.PlatformAdminSecret` — the generated platform-admin credential.
3. :class:`~infra.constructs.events.EventRouting` — bus, rules, queues + DLQs + alarms.
4. :class:`~infra.constructs.functions.LambdaFunctions` — the functions, their roles and grants.
5. :class:`~infra.constructs.workflows.Workflows` — state machines (invoking functions) and schedules;
   then the functions that may start a state machine get its ARN and ``states:StartExecution``.
6. The rule consumers get their SQS event sources.
7. :class:`~infra.constructs.api.RestApi` — the REST API in front of the functions, with CORS for the
   console/portal origins; :class:`~infra.constructs.web_hosting.WebHosting` (S3 + CloudFront, made before the
   functions: the API function gets its origin) uploads ``web/dist`` when it was built.
8. :class:`~infra.constructs.monitoring.Monitoring` — the alarm topic (the action of every alarm), the
   alarms on errors, failed executions, 5XX, throttles and stream lag, and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.api import RestApi
from infra.constructs.data import DataTables
from infra.constructs.events import EventRouting
from infra.constructs.functions import DEFAULT_POWERTOOLS_LAYER_VERSION, LambdaFunctions, SharedResources
from infra.constructs.monitoring import Monitoring
from infra.constructs.secrets import PlatformAdminSecret
from infra.constructs.web_hosting import WebHosting
from infra.constructs.workflows import Workflows


@dataclass(frozen=True)
class TollgateSettings:
    """Deployment knobs (read from CDK context by ``infra/app.py``; defaults suit ``dev``)."""

    stage: str = "dev"
    #: Table deletion protection; also retains tables, log groups and the secret on stack deletion.
    deletion_protection: bool = False
    powertools_layer_version: int = DEFAULT_POWERTOOLS_LAYER_VERSION
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    #: The stage throttle is the platform's ceiling; each tenant has its own limit (tenant_throttle).
    api_throttling_rate_limit: float = 5000
    api_throttling_burst_limit: int = 10000
    #: Subscribed to the alarm topic when set (SNS asks the address to confirm).
    alarm_email: str | None = None
    #: The built web project (``web/dist``) to upload to the console/portal bucket; None: nothing uploaded.
    web_dist: Path | None = None
    #: More browser origins allowed to call the API (CORS), e.g. the console's custom domain; the CloudFront
    #: distribution's own origin is always allowed.
    console_origins: tuple[str, ...] = ()


class TollgateStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: TollgateSettings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        stage = settings.stage
        retain = settings.deletion_protection
        Tags.of(self).add("project", "tollgate")
        Tags.of(self).add("stage", stage)

        self.data = DataTables(self, "Data", deletion_protection=settings.deletion_protection)
        self.platform_admin = PlatformAdminSecret(self, "PlatformAdmin", stage=stage, retain=retain)
        self.events = EventRouting(self, "Events", stage=stage)
        self.web = WebHosting(
            self,
            "Web",
            retain=retain,
            api_origins=[f"https://*.execute-api.{self.region}.{self.url_suffix}"],
        )
        self.cors_origins = [self.web.origin, *settings.console_origins]
        self.functions = LambdaFunctions(
            self,
            "Functions",
            stage=stage,
            resources=SharedResources(
                tables=self.data.tables,
                buckets=self.data.buckets,
                event_bus=self.events.bus,
                platform_admin_secret=self.platform_admin.secret,
            ),
            powertools_layer_version=settings.powertools_layer_version,
            log_retention=settings.log_retention,
            retain_logs=retain,
        )
        self.functions.functions["api"].add_environment("TOLLGATE_CORS_ORIGINS", ",".join(self.cors_origins))
        self.workflows = Workflows(
            self,
            "Workflows",
            stage=stage,
            functions=self.functions.functions,
            buckets=self.data.buckets,
            log_retention=settings.log_retention,
            retain_logs=retain,
        )
        self.workflows.grant_starters(self.functions.functions)
        self.events.attach_consumers(self.functions.functions)
        self.api = RestApi(
            self,
            "Rest",
            stage=stage,
            functions=self.functions.functions,
            throttling_rate_limit=settings.api_throttling_rate_limit,
            throttling_burst_limit=settings.api_throttling_burst_limit,
            log_retention=settings.log_retention,
            retain_logs=retain,
            cors_origins=self.cors_origins,
        )
        if settings.web_dist is not None:
            api = self.api.api  # the stage's base URL without a trailing slash: the apps append /v1/...
            api_url = f"https://{api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}/{api.deployment_stage.stage_name}"
            self.web.deploy(settings.web_dist, api_url=api_url)

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            functions=self.functions.functions,
            state_machines=self.workflows.state_machines,
            api=self.api.api,
            tables=self.data.tables,
            alarm_email=settings.alarm_email,
            retain=retain,
        )
        self.monitoring.watch_every_alarm(self)  # last: every alarm of the stack, whichever construct made it
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(self, "ApiUrl", value=self.api.api.url, description="Base URL of the REST API (stage included).")
        CfnOutput(
            self,
            "PlatformAdminSecretArn",
            value=self.platform_admin.secret.secret_arn,
            description="Secrets Manager secret holding the platform-admin credential.",
        )
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(
            self,
            "ConsoleUrl",
            value=f"{self.web.origin}/console/",
            description="The operator console (the customer portal is at /portal/), on CloudFront.",
        )
        CfnOutput(self, "WebBucketName", value=self.web.site.bucket_name, description="Holds web/dist.")
        CfnOutput(
            self,
            "StreamReplayFunctionName",
            value=self.functions.functions["stream_replay"].function_name,
            description='Invoke with {"queue_url": <a ...StreamFailureQueueUrl>} to replay a stream failure.',
        )
        for (function, table), queue in self.functions.stream_failure_queues.items():
            CfnOutput(
                self,
                f"{''.join(p.title() for p in function.split('_'))}{table.title()}StreamFailureQueueUrl",
                value=queue.queue_url,
                description=f"What '{function}' gave up on: replay with the stream_replay function.",
            )
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.monitoring.topic.topic_arn,
            description="SNS topic every alarm notifies: subscribe to it (or deploy with -c alarm_email=...).",
        )
