"""Starts the state machines (bill runs, bulk migrations, dunning). The execution name is the caller's id, so a
retried start of the same work is refused by Step Functions instead of running it twice."""

from __future__ import annotations

import json
from typing import Any

from tollgate.adapters import aws
from tollgate.settings import get_settings


class StepFunctionsStarter:
    def start(self, machine: str, name: str, payload: dict[str, Any]) -> str:
        return self.start_at(getattr(get_settings(), f"{machine}_state_machine_arn"), name, payload)

    def start_at(self, arn: str, name: str, payload: dict[str, Any]) -> str:
        """Start an execution of the state machine ``arn`` (idempotent per name)."""
        client = aws.client("stepfunctions")
        try:
            return client.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]
        except client.exceptions.ExecutionAlreadyExists:
            return self.execution_arn(arn, name)

    def status(self, machine: str, name: str) -> str | None:
        """RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED of the execution ``name``; None if there is none."""
        arn = getattr(get_settings(), f"{machine}_state_machine_arn")
        client = aws.client("stepfunctions")
        try:
            return str(client.describe_execution(executionArn=self.execution_arn(arn, name))["status"])
        except client.exceptions.ExecutionDoesNotExist:
            return None

    @staticmethod
    def execution_arn(machine_arn: str, name: str) -> str:
        return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


class DunningWorkflow:
    """Implements ``tollgate.ports.payments.DunningStarter``: one execution per invoice, named by its id."""

    def __init__(self, starter: StepFunctionsStarter | None = None) -> None:
        self.starter = starter or StepFunctionsStarter()

    def start(self, tenant_id: str, invoice_id: str, run: str = "") -> str:
        name = f"{invoice_id}-{run}" if run else invoice_id
        return self.starter.start("dunning", name, {"tenant_id": tenant_id, "invoice_id": invoice_id})
