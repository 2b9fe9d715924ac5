"""One role per workflow: each state machine has its own task function, and that function's role holds
only what its workflow needs (a dunning task cannot touch the manifests, a migration task cannot send
email). The CDK stack and the local stack both read the ASL files and the declarations in
infra/definitions, so they name the same functions."""

from __future__ import annotations

import json
import re

import pytest

from infra import definitions

pytestmark = pytest.mark.infra

TASK_FUNCTIONS = {
    "bill_run": "bill_run_tasks",
    "dunning": "dunning_tasks",
    "subscription_clock": "subscription_clock_tasks",
    "bulk_migration": "migration_tasks",
}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _role_actions(synth, function: str) -> set[str]:
    role_lid = synth.logical_id(synth.stack.functions.roles[function])
    actions: set[str] = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_lid} in policy["Properties"]["Roles"]:
            for statement in _as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
                actions |= set(_as_list(statement["Action"]))
    return actions


def _policy_text(synth, function: str) -> str:
    role_lid = synth.logical_id(synth.stack.functions.roles[function])
    return json.dumps(
        [p for p in synth.of_type("AWS::IAM::Policy").values() if {"Ref": role_lid} in p["Properties"]["Roles"]]
    )


def test_every_state_machine_has_its_own_task_function() -> None:
    machines = definitions.state_machines()
    assert {name: list(m.functions.values()) for name, m in machines.items()} == {
        name: [fn] for name, fn in TASK_FUNCTIONS.items()
    }
    for name, machine in machines.items():
        placeholders = set(re.findall(r"\$\{(\w+)\}", (definitions.HERE / machine.file).read_text()))
        assert placeholders == set(machine.placeholders(str, str)), name


def test_a_state_machine_may_invoke_only_its_own_task_function(synth) -> None:
    functions = synth.stack.functions.functions
    for name, machine in synth.stack.workflows.state_machines.items():
        role_lid = synth.logical_id(machine.role)
        invoked = set()
        for policy in synth.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_lid} not in policy["Properties"]["Roles"]:
                continue
            for statement in _as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
                if "lambda:InvokeFunction" in _as_list(statement["Action"]):
                    invoked |= {r["Fn::GetAtt"][0] for r in _as_list(statement["Resource"])}
        assert invoked == {synth.logical_id(functions[TASK_FUNCTIONS[name]])}, name


def test_the_task_roles_hold_only_their_workflow_grants(synth) -> None:
    stack = synth.stack
    manifests = synth.logical_id(stack.data.buckets["manifests"])
    for function in ("dunning_tasks", "subscription_clock_tasks", "migration_tasks"):
        actions, text = _role_actions(synth, function), _policy_text(synth, function)
        assert not {a for a in actions if a.startswith(("ses:", "events:"))}, (function, actions)
        # Only dunning continues as new: it starts its own state machine, nothing else.
        states = {a for a in actions if a.startswith("states:")}
        assert states == ({"states:StartExecution"} if function == "dunning_tasks" else set()), (function, states)
        if states:
            assert "stateMachine:tollgate-dev-dunning" in text and "execution:" not in text
        for table in ("usage", "events"):
            assert synth.logical_id(stack.data.tables[table]) not in text, (function, table)
        # Only the migration writes a manifest (its pages, for the Distributed Map).
        s3_actions = {a for a in actions if a.startswith("s3:")}
        assert (manifests in text) == bool(s3_actions) == (function == "migration_tasks"), function
    bill_run = _role_actions(synth, "bill_run_tasks")
    assert {"s3:PutObject", "ses:SendEmail"} <= bill_run
    assert not {a for a in bill_run if a.startswith(("events:", "states:"))}
    # The bill run writes its watermark probes into the events table (it waits for the aggregator, issue 14).
    assert synth.logical_id(stack.data.tables["events"]) in _policy_text(synth, "bill_run_tasks")


def test_the_local_stack_dispatches_every_declared_function_and_the_asl_names_them() -> None:
    from infra.local.environment import function_arn

    for name, machine in definitions.state_machines().items():
        text = machine.definition(machine.placeholders(function_arn, lambda b: definitions.buckets()[b].local_name))
        assert "${" not in text, name
        assert function_arn(TASK_FUNCTIONS[name]) in text, name
