"""Step Functions state machines and their EventBridge Scheduler schedules.

State machines come from the ASL files declared in ``infra/definitions/statemachines.json``
(``DefinitionBody.from_file``), with each ``${Placeholder}`` substituted by the ARN of the declared
function (``definition_substitutions``). Each state machine logs ALL events to its own log group
(without execution data: inputs and outputs carry tenant data) and is traced with X-Ray; its role may
invoke exactly the functions its definition names.

Schedules come from ``infra/definitions/schedules.json`` (``aws_scheduler`` L2, stable in aws-cdk-lib
2.275); each has its own role, trusted only by EventBridge Scheduler of this account, allowed only
``states:StartExecution`` on its target state machine.

Functions declared with ``state_machines: [...]`` get the ARN env var and ``states:StartExecution`` on
those state machines (:meth:`Workflows.grant_starters`).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import definitions
from infra.constructs.naming import RegexAppliesTo, acknowledge, pascal


class Workflows(Construct):
    """``state_machines[name]``, ``schedules[name]``, ``schedule_roles[name]``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.IFunction],
        buckets: Mapping[str, s3.IBucket],
        log_retention: logs.RetentionDays,
        retain_logs: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.log_retention = log_retention
        self.retain_logs = retain_logs
        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.schedules: dict[str, scheduler.Schedule] = {}
        self.schedule_roles: dict[str, iam.Role] = {}
        for name, decl in definitions.state_machines().items():
            self._state_machine(name, decl, functions, buckets)
        for schedule in definitions.schedules():
            self._schedule(schedule, functions)

    def machine_name(self, name: str) -> str:
        return f"tollgate-{self.stage}-{name.replace('_', '-')}"

    def _state_machine(
        self,
        name: str,
        decl: definitions.StateMachine,
        functions: Mapping[str, lambda_.IFunction],
        buckets: Mapping[str, s3.IBucket],
    ) -> None:
        cid = pascal(name)
        log_group = logs.LogGroup(
            self,
            f"{cid}Logs",
            retention=self.log_retention,
            removal_policy=RemovalPolicy.RETAIN if self.retain_logs else RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            cid,
            state_machine_name=self.machine_name(name),
            comment=f"Tollgate {self.stage}: {decl.file}",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(definitions.HERE / decl.file)),
            definition_substitutions=decl.placeholders(
                lambda f: functions[f].function_arn, lambda b: buckets[b].bucket_name
            ),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        # The definition names the functions by unqualified ARN: invoke exactly those, no ':*'.
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=sorted({functions[f].function_arn for f in decl.functions.values()}),
            )
        )
        for bucket_name in decl.item_buckets:
            buckets[bucket_name].grant_read(machine.role)
        if decl.result_bucket:
            buckets[decl.result_bucket].grant_put(machine.role)
        if decl.distributed_map:
            self._grant_child_executions(machine, name)
        if decl.continues_as_new:  # its task function starts the next generation of the same machine
            for function_name in decl.functions.values():
                functions[function_name].add_to_role_policy(
                    iam.PolicyStatement(actions=["states:StartExecution"], resources=[self._own_arn(name)])
                )
        self._acknowledge(machine, decl)
        self.state_machines[name] = machine
        self.log_groups[name] = log_group

    def _own_arn(self, name: str) -> str:
        """The state machine's ARN built from its name (its own attribute would make its role depend on it)."""
        return Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.machine_name(name),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _grant_child_executions(self, machine: sfn.StateMachine, name: str) -> None:
        """A Distributed Map runs each item as a child execution of this same state machine."""
        stack, machine_name, own_arn = Stack.of(self), self.machine_name(name), self._own_arn(name)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine_name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        machine.add_to_role_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[own_arn]))
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions])
        )

    @staticmethod
    def _acknowledge(machine: sfn.StateMachine, decl: definitions.StateMachine) -> None:
        if decl.item_buckets:
            acknowledge(
                machine,
                "AwsSolutions-IAM5",
                "The Distributed Map reads its item manifest: s3:GetObject*/s3:List*/s3:GetBucket* on the "
                "declared manifest bucket and its objects only.",
                applies_to=[
                    RegexAppliesTo(regex="/^Action::s3:.*\\*$/g"),
                    RegexAppliesTo(regex="/^Resource::<.+Bucket.+\\.Arn>\\/\\*$/g"),
                ],
            )
        if decl.distributed_map:
            acknowledge(
                machine,
                "AwsSolutions-IAM5",
                "A Distributed Map describes and stops the child executions of its own state machine: "
                "execution:<this machine>/* only.",
                applies_to=[
                    RegexAppliesTo(regex="/^Resource::arn:<AWS::Partition>:states:.*:execution:tollgate-.*\\/\\*$/g")
                ],
            )
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "Step Functions logging to CloudWatch Logs uses the log-delivery APIs (logs:CreateLogDelivery, "
            "logs:DescribeResourcePolicies, ...) and X-Ray tracing uses xray:PutTraceSegments et al.; none "
            "of these support resource-level permissions, so they are granted on Resource '*'.",
            applies_to=["Resource::*"],
        )

    def _schedule(self, schedule: definitions.Schedule, functions: Mapping[str, lambda_.IFunction]) -> None:
        """Each schedule's own role: trusted by EventBridge Scheduler of this account, start its target only."""
        cid = pascal(schedule.name)
        what = schedule.target.state_machine or schedule.target.function
        role = iam.Role(
            self,
            f"{cid}ScheduleRole",
            description=f"EventBridge Scheduler '{schedule.name}': start {what} only.",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        payload = scheduler.ScheduleTargetInput.from_object(schedule.input)
        # Each target grants the role states:StartExecution / lambda:InvokeFunction on its own target only.
        target: scheduler.IScheduleTarget
        if schedule.target.state_machine:
            machine = self.state_machines[schedule.target.state_machine]
            target = scheduler_targets.StepFunctionsStartExecution(machine, input=payload, role=role)
        else:
            function = functions[str(schedule.target.function)]
            target = scheduler_targets.LambdaInvoke(function, input=payload, role=role)
        self.schedules[schedule.name] = scheduler.Schedule(
            self,
            f"{cid}Schedule",
            description=schedule.description,
            schedule=scheduler.ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timezone)),
            target=target,
        )
        if schedule.target.function:  # acknowledged once the target has granted the role (its DefaultPolicy)
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                f"The LambdaInvoke target grants lambda:InvokeFunction on the '{schedule.target.function}' "
                "function and '<its arn>:*', which are that same function's versions and aliases only.",
                applies_to=[RegexAppliesTo(regex="/^Resource::<.+\\.Arn>:\\*$/g")],
            )
        self.schedule_roles[schedule.name] = role

    def grant_starters(self, functions: Mapping[str, lambda_.Function]) -> None:
        """ARN env var + ``states:StartExecution`` (and ``states:DescribeExecution`` on its executions) for every
        function declared to start a state machine."""
        for function_name, decl in definitions.functions().items():
            for machine_name in decl.state_machines:
                machine = self.state_machines[machine_name]
                functions[function_name].add_environment(
                    definitions.state_machines()[machine_name].env, machine.state_machine_arn
                )
                machine.grant_start_execution(functions[function_name])
                # A start that finds a lock (a bulk migration) or a run (a bill run) still marked RUNNING asks
                # whether the execution that holds it is still running (a stale one is taken over).
                machine.grant_execution(functions[function_name], "states:DescribeExecution")
            if decl.state_machines:
                acknowledge(
                    functions[function_name].role or functions[function_name],
                    "AwsSolutions-IAM5",
                    "states:DescribeExecution on the executions of the state machines this function starts "
                    "(execution:<machine>:*): the execution names are ids made at run time.",
                    applies_to=[RegexAppliesTo(regex="/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\\*$/g")],
                )
