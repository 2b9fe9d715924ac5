"""The dunning loop after task errors is bounded (issue 16): a run that keeps failing pauses, then continues as
a new execution (generation + 1) so no history approaches Step Functions' 25,000 events, and after the last
generation fails as DunningStalled (which alarms). The definition file runs on moto with its clock
compressed: pauses of one second, one pause per generation, two generations, no task retries."""

from __future__ import annotations

import json
import uuid

import pytest

from functions.dunning_tasks import handler as tasks
from infra import definitions
from infra.local import aws_calls, lambda_dispatch
from infra.local.environment import function_arn
from infra.local.stack import function_name

PAUSES, GENERATIONS = 1, 2


def compressed() -> tuple[str, dict]:
    decl = definitions.state_machines()["dunning"]
    real = json.loads(decl.definition(decl.placeholders(function_arn, str)))
    states = json.loads(json.dumps(real))["States"]
    states["PauseAfterError"]["Seconds"] = 1
    states["TooManyPauses"]["Choices"][0]["NumericGreaterThanEquals"] = PAUSES
    states["TooManyGenerations"]["Choices"][0]["NumericGreaterThanEquals"] = GENERATIONS
    for state in states.values():
        for retry in state.get("Retry", []):
            retry["MaxAttempts"] = 0
    return json.dumps({**real, "States": states}), real


@pytest.fixture
def failing_plans(stack):
    def wrapped(event, context):
        if event["task"] == "plan_dunning_attempt":
            raise RuntimeError("the payment settings could not be read")
        with aws_calls.unrecorded():  # it starts this test's own copy of the machine, not the template's
            return tasks.lambda_handler(event, context)

    lambda_dispatch.register(function_name("dunning_tasks"), wrapped)
    yield
    lambda_dispatch.register(function_name("dunning_tasks"), tasks.lambda_handler)


def test_a_dunning_run_that_keeps_failing_continues_as_new_then_stalls(stack, failing_plans):
    sfn = stack.client("stepfunctions")
    definition, real = compressed()
    machine = sfn.create_state_machine(
        name=f"dunning-compressed-{uuid.uuid4().hex[:8]}",
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/x",
    )["stateMachineArn"]
    first = sfn.start_execution(
        stateMachineArn=machine, name="inv_0123456789abcdef", input=json.dumps({"tenant_id": "t", "invoice_id": "i"})
    )["executionArn"]
    arns = [first, f"{first}-g1", f"{first}-g2"]
    runs = [stack.wait_for_execution(arn, timeout=60) for arn in arns]

    assert [r["status"] for r in runs] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert runs[-1].get("error") == "DunningStalled"
    assert [json.loads(r["input"]).get("generation") for r in runs] == [None, 1, 2]
    # The history of one generation: measured here with one try per task, then counted for AWS with the
    # definition's real retries and pauses per generation. It stays far below 25,000 events.
    history = sfn.get_execution_history(executionArn=arns[1], maxResults=1000)["events"]
    retries = max(r["MaxAttempts"] for s in real["States"].values() for r in s.get("Retry", []))
    real_pauses = real["States"]["TooManyPauses"]["Choices"][0]["NumericGreaterThanEquals"]
    per_pause = len(history) / PAUSES + retries * 3  # each retry: scheduled, started, failed
    assert per_pause * real_pauses < 25_000 / 10, (len(history), per_pause)
