"""IAM conformance: every AWS operation a function performs locally is allowed by that function's role in
the synthesized template (and each state machine and schedule role allows what it starts).

The calls are recorded by the local stack (``infra.local.aws_calls``) for the whole test session. This test
first drives its own workload through the local stack (settings with an invoice sender, a meter, a
customer, a plan, a subscription whose period has ended, usage ingestion, a bill run that invoices and
emails, a bulk migration, the subscription clock, the reconciliation, the stream and queue consumers), so
the check covers the core paths whatever the order the tests run in; everything the other tiers recorded
before it in the same session is checked too (the dunning workflow, webhooks, the compatibility routes...).
The evaluation is in ``tests/iam_conformance.py``.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import definitions
from infra.local import aws_calls
from infra.local.aws_calls import Call
from tests import iam_conformance as iam

pytestmark = pytest.mark.infra


class InProcessClient:
    """Requests straight to the local API Gateway (the same routing, authorizer and handlers, no socket)."""

    def __init__(self, gateway: Any, key: str, tenant_id: str) -> None:
        self.gateway, self.key, self.tenant_id = gateway, key, tenant_id

    def __call__(self, method: str, path: str, body: Any = None, expect: int | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.key}", "X-Tenant-Id": self.tenant_id}
        raw = b""
        if body is not None:
            raw, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        response = self.gateway.handle(method, path, "", headers, raw)
        status, answer = response["statusCode"], json.loads(response.get("body") or "null")
        assert expect is None or status == expect, (method, path, status, answer)
        return answer


def _wait(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "the workload did not finish in time"
        time.sleep(0.2)
    return value


def _plan(api: InProcessClient, fee: str) -> dict:
    body = {
        "name": f"iam {uuid.uuid4().hex[:6]}",
        "currency": "USD",
        "billing_interval": "MONTH",
        "fees": [{"name": "Platform fee", "amount": fee, "timing": "in_advance"}],
    }
    created = api("POST", "/v1/plans", body, 201)
    api("POST", f"/v1/plans/{created['id']}/versions/1/publish", None, 200)
    return created


def drive_workload(stack: Any) -> None:
    """The core paths of every function, through the local stack."""
    from infra.local.http import LocalApiGateway

    boot = stack.bootstrap_tenant("IAM conformance")
    api = InProcessClient(LocalApiGateway(stack), boot.operator_key, boot.tenant_id)
    api("PUT", "/v1/settings/billing", {"sender_email": "billing@iam.example.com"}, 200)
    meter = api("POST", "/v1/meters", {"event_name": "iam.calls", "aggregation": {"function": "COUNT"}}, 201)
    customer = api("POST", "/v1/customers", {"external_id": "iam-c1", "name": "Ada", "email": "ada@example.com"}, 201)
    old, new = _plan(api, "10.00"), _plan(api, "12.00")
    start = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    subscription = {"customer_id": customer["id"], "plan_id": old["id"], "start_at": start}
    api("POST", "/v1/subscriptions", subscription, 201)
    event = {"event_id": "iam-e1", "event_name": meter["event_name"], "external_customer_id": "iam-c1"}
    api("POST", "/v1/ingest/events", event, 202)
    stack.drain()
    run = api("POST", "/v1/bill-runs", {}, 202)
    _wait(lambda: api("GET", f"/v1/bill-runs/{run['id']}", None, 200)["status"] != "RUNNING")
    migration = api("POST", "/v1/migrations", {"from_plan_id": old["id"], "to_plan_id": new["id"]}, 202)
    _wait(lambda: api("GET", f"/v1/migrations/{migration['id']}", None, 200)["status"] != "RUNNING")
    stack.wait_for_execution(stack.fire_schedule("subscription-clock"))
    stack.fire_schedule("daily-reconciliation")
    stack.drain()
    for queue_url in stack.resources.stream_failure_queue_urls.values():  # the operator's replay (nothing failed)
        stack.invoke("stream_replay", {"queue_url": queue_url, "max_messages": 10})
    _drive_integrations(api)


def _drive_integrations(api) -> None:
    """A gateway integration's life: its secret created, read, rotated, deleted; a role assumed."""
    role = "arn:aws:iam::111111111111:role/TollgateGatewayAccess"
    body = {"type": "aws_api_gateway", "name": "iam", "config": {"role_arn": role, "region": "us-east-1"}}
    created = api("POST", "/v1/integrations", body, 201)
    api("POST", f"/v1/integrations/{created['id']}/test", None, 200)
    api("PATCH", f"/v1/integrations/{created['id']}", {"credentials": {}}, 200)
    api("GET", "/v1/integrations/aws/role-template", None, 200)
    api("DELETE", f"/v1/integrations/{created['id']}", None, 200)


@pytest.fixture(scope="module")
def resolver(synth, local_stack) -> iam.Resolver:
    ddb = local_stack.client("dynamodb")
    streams = {}
    with local_stack.exclusive():
        for table in definitions.tables().values():
            if table.stream:
                streams[table.local_name] = ddb.describe_table(TableName=table.local_name)["Table"]["LatestStreamArn"]
    return iam.local_values(synth.stack, synth.logical_id, streams)


def _function_policies(synth, template: dict, resolver: iam.Resolver):
    roles = {name: synth.logical_id(role) for name, role in synth.stack.functions.roles.items()}

    def policies_of(function: str) -> list[dict] | None:
        return iam.role_policies(template, roles[function], resolver) if function in roles else None

    return policies_of


def test_every_recorded_call_of_every_function_is_allowed_by_its_role(synth, local_stack, resolver) -> None:
    drive_workload(local_stack)
    policies_of = _function_policies(synth, synth.template_json, resolver)
    # the calls recorded after this test (and under xdist, in the other workers) are checked at session end
    iam.SESSION_POLICIES.append({function: policies_of(function) for function in synth.stack.functions.roles})
    denials, requested = iam.check_functions(aws_calls.recorded(), policies_of)
    assert not denials, "\n".join(map(str, denials))
    # The workload reached every function that does AWS work of its own (dunning runs in the workflow tier).
    reached = set(definitions.functions()) - {"dunning_tasks"}
    assert reached <= set(requested), reached - set(requested)
    # It saw the two calls whose actions differ from their operations.
    everything = {r for rs in requested.values() for r in rs}
    assert {r.action for r in everything} >= {"dynamodb:PartiQLInsert", "ses:VerifyEmailIdentity", "ses:SendEmail"}
    assert {r.action for r in requested["api"]} >= {"secretsmanager:CreateSecret", "sts:AssumeRole"}


def test_calls_made_as_a_tenants_role_are_the_ones_the_role_template_grants() -> None:
    """What a gateway adapter calls as the tenant's role must be in ``adapters.gateways.aws.PERMISSIONS``, the
    list the role template grants (checked again over the whole session at its end)."""
    assert iam.tenant_role_denials(aws_calls.recorded()) == []
    unlisted = Call("api:tenant-role", "apigateway", "DeleteRestApi", ())
    assert [d.action for d in iam.tenant_role_denials([unlisted])] == ["apigateway:DeleteRestApi"]


def test_each_state_machine_role_allows_what_its_definition_runs(synth, resolver) -> None:
    for name, machine in synth.stack.workflows.state_machines.items():
        policies = iam.role_policies(synth.template_json, synth.logical_id(machine.role), resolver)
        denials = iam.denials(f"state machine {name}", policies, iam.state_machine_requests(name))
        assert not denials, "\n".join(map(str, denials))


def test_each_schedule_role_allows_starting_its_target(synth, local_stack, resolver) -> None:
    for schedule in definitions.schedules():
        role = synth.stack.workflows.schedule_roles[schedule.name]
        policies = iam.role_policies(synth.template_json, synth.logical_id(role), resolver)
        requests = iam.schedule_requests(schedule, local_stack.state_machine_arns)
        denials = iam.denials(f"schedule {schedule.name}", policies, requests)
        assert not denials, "\n".join(map(str, denials))


def _without(template: dict, role_lid: str, action: str) -> dict:
    """The template with ``action`` taken out of every statement of the role's policies."""
    changed = copy.deepcopy(template)
    for resource in changed["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_lid} in resource["Properties"]["Roles"]:
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            for statement in statements:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                statement["Action"] = [a for a in actions if a != action]
            resource["Properties"]["PolicyDocument"]["Statement"] = [s for s in statements if s["Action"]]
    return changed


def test_the_check_fails_naming_function_action_and_resource_when_one_action_is_removed(synth, resolver) -> None:
    table = definitions.tables()["events"].local_name
    insert = Call("api", "dynamodb", "BatchExecuteStatement", (("Statements", (f'INSERT INTO "{table}" VALUE {{}}',)),))
    verify = Call("api", "ses", "VerifyEmailIdentity", (("EmailAddress", "billing@iam.example.com"),))
    api_role = synth.logical_id(synth.stack.functions.roles["api"])
    assert iam.check_functions([insert, verify], _function_policies(synth, synth.template_json, resolver))[0] == []
    broken = _without(synth.template_json, api_role, "dynamodb:PartiQLInsert")
    denials, _ = iam.check_functions([insert, verify], _function_policies(synth, broken, resolver))
    assert [str(d) for d in denials] == [
        f"function api: dynamodb:PartiQLInsert on {iam.table_arn(table)} is not allowed by its role"
    ]


def test_the_old_ses_grant_on_identities_fails_the_check(synth, resolver) -> None:
    """Before the fix ses:VerifyEmailIdentity was granted on identity/* like SendEmail: IAM never
    matches it there (the action takes no resource), so saving an invoice sender was denied."""
    api_role = synth.logical_id(synth.stack.functions.roles["api"])
    old = copy.deepcopy(synth.template_json)
    for resource in old["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": api_role} in resource["Properties"]["Roles"]:
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            identities = next(s["Resource"] for s in statements if "ses:SendEmail" in s["Action"])
            for statement in statements:
                if "ses:VerifyEmailIdentity" in statement["Action"]:
                    statement["Resource"] = identities
    verify = Call("api", "ses", "VerifyEmailIdentity", (("EmailAddress", "billing@iam.example.com"),))
    denials, _ = iam.check_functions([verify], _function_policies(synth, old, resolver))
    assert [str(d) for d in denials] == ["function api: ses:VerifyEmailIdentity on * is not allowed by its role"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            Call("f", "dynamodb", "BatchExecuteStatement", (("Statements", ('INSERT INTO "t" VALUE {}',)),)),
            [iam.Request("dynamodb:PartiQLInsert", iam.table_arn("t"))],
        ),
        (
            Call("f", "dynamodb", "ExecuteStatement", (("Statements", ('SELECT * FROM "t"."by_x" WHERE a=?',)),)),
            [iam.Request("dynamodb:PartiQLSelect", iam.table_arn("t", "by_x"))],
        ),
        (
            Call("f", "dynamodb", "TransactWriteItems", (("Items", (("ConditionCheck", "t"), ("Put", "u"))),)),
            [
                iam.Request("dynamodb:ConditionCheckItem", iam.table_arn("t")),
                iam.Request("dynamodb:PutItem", iam.table_arn("u")),
            ],
        ),
        (
            Call("f", "ses", "VerifyEmailIdentity", (("EmailAddress", "a@b.c"),)),
            [iam.Request("ses:VerifyEmailIdentity", "*")],
        ),
        (Call("f", "s3", "ListObjectsV2", (("Bucket", "b"),)), [iam.Request("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            Call("f", "sesv2", "SendEmail", (("FromEmailAddress", "Billing <a@b.c>"),)),
            [iam.Request("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/a@b.c")],
        ),
    ],
)
def test_operations_map_to_the_iam_actions_they_need(call: Call, expected: list) -> None:
    assert iam.iam_requests(call) == expected
