"""IAM conformance: the AWS calls the code makes, as IAM requests, against the synthesized template's roles.

moto does not enforce IAM, so the local stack cannot notice a missing grant. This module computes it:

1. :mod:`infra.local.aws_calls` records each AWS operation a function performs (keyed by function).
2. :func:`iam_requests` maps an operation to the IAM action(s) it needs and the resource ARN(s) it acts on.
   Where the action differs from the operation's name the map says so: PartiQL statements by kind
   (``INSERT`` -> ``dynamodb:PartiQLInsert``, ``SELECT`` -> ``PartiQLSelect`` on the table or index,
   ``UPDATE``/``DELETE``), ``TransactWriteItems`` -> the item actions of its items, ``TransactGetItems``
   -> ``GetItem``, the batch SQS operations -> their single actions, S3 ``ListObjectsV2``/``HeadBucket``
   -> ``s3:ListBucket``, ``HeadObject`` -> ``s3:GetObject``, SES v1/v2 to the ``ses:`` prefix, streams to
   ``dynamodb:``. Actions that support no resource type (``ses:VerifyEmailIdentity``,
   ``dynamodb:ListStreams``, ``xray:*``) are requested on ``*``, as IAM evaluates them.
3. The template's policies are resolved (``Ref``/``Fn::GetAtt``/``Fn::Join``/``Fn::Sub`` and pseudo
   parameters) to the local stack's names and ARNs, and each request is evaluated against the role's
   policies with **moto's IAM policy evaluator** (``moto.iam.access_control.IAMPolicy``): the evaluator
   moto uses for its own access control, already a pinned dependency here, which implements
   Allow/Deny, ``NotAction``, wildcard actions and resources and condition operators. (``policyuniverse``
   and ``cloudsplaining`` expand and audit policies but do not answer "is this request allowed";
   ``parliament`` lints policies without requests.)

State machine roles are checked from their definitions (each Lambda task's function, a Distributed
Map's item reader and its child executions), schedule roles from their targets.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from infra.local.aws_calls import Call
from infra.local.environment import ACCOUNT, REGION


@dataclass(frozen=True, order=True)
class Request:
    action: str
    resource: str


@dataclass(frozen=True, order=True)
class Denial:
    principal: str  # "function api", "state machine bill_run", "schedule daily-bill-run"
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.principal}: {self.action} on {self.resource} is not allowed by its role"


# -- operations -> IAM requests ------------------------------------------------------------------------

_PREFIX = {"sesv2": "ses", "dynamodbstreams": "dynamodb", "stepfunctions": "states"}
# Actions that support no resource type: IAM evaluates them against "*".
_NO_RESOURCE = {"ses:VerifyEmailIdentity", "ses:VerifyDomainIdentity", "ses:GetSendQuota", "dynamodb:ListStreams"}
# Operations IAM never denies (sts:GetCallerIdentity: "no permissions are required").
_NO_PERMISSION = {("sts", "GetCallerIdentity")}
_RENAMED = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "lambda:Invoke": "lambda:InvokeFunction",
    "dynamodb:TransactGetItems": "dynamodb:GetItem",
}
_TRANSACT_ACTION = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
_PARTIQL = re.compile(
    r"""^\s*(?P<kind>INSERT\s+INTO|SELECT\b.*?\bFROM|UPDATE|DELETE\s+FROM|EXISTS\s*\(\s*SELECT\b.*?\bFROM)\s+"""
    r"""(?P<table>"[^"]+"|[\w.-]+)(?:\."(?P<index>[^"]+)")?""",
    re.IGNORECASE | re.DOTALL,
)
_PARTIQL_ACTION = {
    "INSERT": "PartiQLInsert",
    "SELECT": "PartiQLSelect",
    "UPDATE": "PartiQLUpdate",
    "DELETE": "PartiQLDelete",
}


def table_arn(name: str, index: str | None = None) -> str:
    arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def partiql_requests(statement: str) -> list[Request]:
    """``INSERT INTO "t" ...`` -> ``dynamodb:PartiQLInsert`` on t; ``SELECT ... FROM "t"."i"`` -> on the index."""
    match = _PARTIQL.match(statement)
    if not match:
        raise ValueError(f"cannot tell the kind and table of the PartiQL statement {statement[:80]!r}")
    kind = match["kind"].split()[0].upper()
    kind = "SELECT" if kind.startswith("EXISTS") else kind
    return [Request(f"dynamodb:{_PARTIQL_ACTION[kind]}", table_arn(match["table"].strip('"'), match["index"]))]


def _ses_identity(address: str) -> str:
    return f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{parseaddr(address)[1] or address}"


def _sqs_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{url.rstrip('/').rsplit('/', 1)[-1]}"


def _secret_arn(secret: str) -> str:
    """A secret named by name is the ARN with Secrets Manager's random six-character suffix."""
    return secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbCdEf"


def _bus_arn(bus: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"


def _resources(call: Call, action: str) -> list[str]:
    p = call.param
    if action in _NO_RESOURCE or action.startswith("xray:"):
        return ["*"]
    if call.service == "dynamodb":
        if p("Tables"):
            return [table_arn(t) for t in p("Tables")]
        return [table_arn(p("TableName"), p("IndexName"))] if p("TableName") else ["*"]
    if call.service == "dynamodbstreams":
        return [p("StreamArn")]
    if call.service == "s3":
        bucket = f"arn:aws:s3:::{p('Bucket')}"
        if action == "s3:ListBucket":
            return [bucket]
        keys = p("Keys") or [p("Key")]
        return [f"{bucket}/{k}" for k in keys]
    if call.service in ("ses", "sesv2"):
        address = p("Source") or p("FromEmailAddress") or p("EmailIdentity") or p("EmailAddress")
        return [_ses_identity(address)] if address else ["*"]
    if call.service == "sqs":
        return [_sqs_arn(p("QueueUrl"))]
    if call.service == "events":
        return [_bus_arn(b) for b in p("EventBuses") or ["default"]]
    if call.service == "stepfunctions":
        return [p("stateMachineArn") or p("executionArn") or "*"]
    if call.service == "secretsmanager":
        return [_secret_arn(p("SecretId") or p("Name"))]
    if call.service == "sts":
        return [p("RoleArn") or "*"]
    if call.service == "lambda":
        name = p("FunctionName")
        return [name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"]
    return ["*"]


def iam_requests(call: Call) -> list[Request]:
    """The IAM requests an AWS operation makes (action and resource ARN each)."""
    if (call.service, call.operation) in _NO_PERMISSION:
        return []
    if call.service == "dynamodb" and call.param("Statements"):
        return [r for s in call.param("Statements") for r in partiql_requests(s)]
    if call.service == "dynamodb" and call.operation == "TransactWriteItems":
        return [Request(_TRANSACT_ACTION[kind], table_arn(t)) for kind, t in call.param("Items")]
    if call.service == "s3" and call.operation == "CopyObject":
        source = str(call.param("CopySource"))
        return [
            Request("s3:GetObject", f"arn:aws:s3:::{source.lstrip('/')}"),
            Request("s3:PutObject", f"arn:aws:s3:::{call.param('Bucket')}/{call.param('Key')}"),
        ]
    prefix = _PREFIX.get(call.service, call.service)
    action = _RENAMED.get(f"{prefix}:{call.operation}", f"{prefix}:{call.operation}")
    if call.operation == "TransactGetItems":
        return [Request(action, table_arn(t)) for _, t in call.param("Items")]
    return [Request(action, resource or "*") for resource in _resources(call, action)]


# -- the template, resolved to the local stack's names ----------------------------------------------------

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Tollgate",
    "AWS::NoValue": None,
}


class Resolver:
    """Resolves CloudFormation intrinsics: ``values[(logical id, attribute)]`` (``Ref`` is attribute
    ``"Ref"``); an unknown resource resolves to ``<logical id>.<attribute>``, which matches no request."""

    def __init__(self, values: dict[tuple[str, str], str], aliases: dict[str, str] | None = None) -> None:
        self.values = values
        self.aliases = aliases or {}  # literal names in the template (a state machine's) -> local names

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(n) for n in node]
        if not isinstance(node, dict):
            return self._alias(node) if isinstance(node, str) else node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return PSEUDO[arg] if arg in PSEUDO else self.values.get((arg, "Ref"), f"{arg}.Ref")
            if key == "Fn::GetAtt":
                lid, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.values.get((lid, attribute), f"{lid}.{attribute}")
            if key == "Fn::Join":
                return self._alias(arg[0].join(str(self(part)) for part in arg[1]))
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Select":
                return self(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return str(self(arg[1])).split(arg[0])
        return {k: self(v) for k, v in node.items()}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def one(m: re.Match[str]) -> str:
            name = m[1]
            if name in extra:
                return str(self(extra[name]))
            if "." in name:
                return str(self({"Fn::GetAtt": name.split(".", 1)}))
            return str(self({"Ref": name}))

        return self._alias(re.sub(r"\$\{([^}!]+)\}", one, text))

    def _alias(self, text: str) -> str:
        for literal, local in self.aliases.items():
            text = text.replace(literal, local)
        return text


def role_policies(template: dict, role_lid: str, resolve: Resolver) -> list[dict]:
    """Every policy document attached to the role (inline and AWS::IAM::Policy), resolved."""
    resources = template["Resources"]
    documents = [p["PolicyDocument"] for p in resources[role_lid]["Properties"].get("Policies", [])]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_lid} in resource["Properties"].get("Roles", []):
            documents.append(resource["Properties"]["PolicyDocument"])
    if resources[role_lid]["Properties"].get("ManagedPolicyArns"):
        raise ValueError(f"role {role_lid} has managed policies: the check cannot see their statements")
    return [resolve(d) for d in documents]


def allowed(policies: Iterable[dict], request: Request) -> bool:
    """moto's evaluator over the role's identity policies: an explicit Deny wins, else any Allow."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(json.dumps(p)).is_action_permitted(request.action, request.resource) for p in policies]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def denials(principal: str, policies: list[dict], requests: Iterable[Request]) -> list[Denial]:
    return sorted(Denial(principal, r.action, r.resource) for r in set(requests) if not allowed(policies, r))


def check_functions(
    calls: Iterable[Call], policies_of: Callable[[str], list[dict] | None]
) -> tuple[list[Denial], dict[str, set[Request]]]:
    """Each recorded call of a declared function against that function's role; also what was requested."""
    requested: dict[str, set[Request]] = {}
    for call in calls:
        requested.setdefault(call.function, set()).update(iam_requests(call))
    found: list[Denial] = []
    for function, requests in sorted(requested.items()):
        policies = policies_of(function)
        if policies is not None:  # None: not a declared function (a test's own registered handler)
            found += denials(f"function {function}", policies, requests)
    return found, requested


# -- the synthesized stack, in the local stack's names ------------------------------------------------


def local_values(stack: Any, logical_id: Callable[[Any], str], stream_arns: dict[str, str]) -> Resolver:
    """``Ref``/``Fn::GetAtt`` of the template's tables, buckets, bus, functions and state machines as
    the local stack names them (``stream_arns``: local table name -> its stream's ARN)."""
    from infra import definitions
    from infra.local.environment import function_arn, function_name

    values: dict[tuple[str, str], str] = {}
    for name, table in stack.data.tables.items():
        local = definitions.tables()[name].local_name
        lid = logical_id(table)
        values |= {(lid, "Ref"): local, (lid, "Arn"): table_arn(local)}
        if local in stream_arns:
            values[(lid, "StreamArn")] = stream_arns[local]
    for name, bucket in stack.data.buckets.items():
        local = definitions.buckets()[name].local_name
        lid = logical_id(bucket)
        values |= {(lid, "Ref"): local, (lid, "Arn"): f"arn:aws:s3:::{local}"}
    bus, bus_lid = definitions.events().bus.name, logical_id(stack.events.bus)
    values |= {(bus_lid, "Ref"): bus, (bus_lid, "Name"): bus, (bus_lid, "Arn"): _bus_arn(bus)}
    for name, queue in stack.events.queues.items():
        rule = next(r for r in definitions.events().rules if r.name == name)
        local_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/tollgate-{rule.queue}"
        values |= {(logical_id(queue), "Arn"): _sqs_arn(local_url), (logical_id(queue), "Ref"): local_url}
    from infra.local.event_sources import failure_queue_name

    for (function, table), queue in stack.functions.stream_failure_queues.items():
        local_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{failure_queue_name(function, table)}"
        values |= {(logical_id(queue), "Arn"): _sqs_arn(local_url), (logical_id(queue), "Ref"): local_url}
    for name, fn in stack.functions.functions.items():
        lid = logical_id(fn)
        values |= {(lid, "Ref"): function_name(name), (lid, "Arn"): function_arn(name)}
    aliases = {}
    for name, machine in stack.workflows.state_machines.items():
        decl = definitions.state_machines()[name]
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{decl.local_name}"
        lid = logical_id(machine)
        values |= {(lid, "Ref"): arn, (lid, "Arn"): arn, (lid, "Name"): decl.local_name}
        aliases[stack.workflows.machine_name(name)] = decl.local_name  # the name as a literal in an ARN
    return Resolver(values, aliases)


def state_machine_requests(name: str) -> list[Request]:
    """What a state machine's role is asked for while it runs, read from its definition: each task's
    Lambda function, a Distributed Map's item reader (any object of the declared bucket) and its own
    child executions. A task of any other kind has no mapping yet: it fails here, to be added."""
    from infra import definitions
    from infra.local.environment import function_arn

    decl = definitions.state_machines()[name]
    definition = json.loads(decl.definition({ph: function_arn(fn) for ph, fn in decl.functions.items()}))
    own = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{decl.local_name}"
    requests: list[Request] = []
    for state in _states(definition):
        if "ItemReader" in state:
            if state["ItemReader"]["Resource"] != "arn:aws:states:::s3:getObject":
                raise ValueError(f"{name}: no IAM mapping for item reader {state['ItemReader']['Resource']}")
            for bucket in decl.item_buckets:
                local = definitions.buckets()[bucket].local_name
                requests.append(Request("s3:GetObject", f"arn:aws:s3:::{local}/manifests/example.json"))
        if state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            child = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{decl.local_name}/map:child"
            requests += [Request("states:StartExecution", own)]
            requests += [Request(a, child) for a in ("states:DescribeExecution", "states:StopExecution")]
        if state.get("Type") == "Task":
            resource = state["Resource"]
            if resource.startswith("arn:aws:states:::lambda:invoke"):
                requests.append(Request("lambda:InvokeFunction", state["Parameters"]["FunctionName"]))
            elif resource.startswith("arn:aws:lambda:"):
                requests.append(Request("lambda:InvokeFunction", resource))
            else:
                raise ValueError(f"{name}: no IAM mapping for the task resource {resource}")
    return requests


def _states(definition: dict) -> Iterable[dict]:
    for state in definition.get("States", {}).values():
        yield state
        for nested in ("Iterator", "ItemProcessor"):
            if nested in state:
                yield from _states(state[nested])
        for branch in state.get("Branches", []):
            yield from _states(branch)


def schedule_requests(schedule: Any, state_machine_arns: dict[str, str]) -> list[Request]:
    """An EventBridge Scheduler role starts its target: a state machine's execution or a function."""
    from infra.local.environment import function_arn

    if schedule.target.state_machine:
        return [Request("states:StartExecution", state_machine_arns[schedule.target.state_machine])]
    return [Request("lambda:InvokeFunction", function_arn(str(schedule.target.function)))]


# -- the end of the session ---------------------------------------------------------------------------

#: Set by the conformance test once it has resolved the template: the policies of each function's role
#: (function name -> resolved policy documents). At the end of the session (tests/conftest.py) every call
#: recorded after that test is checked too, so the tiers that run after it (workflows, ...) are covered as
#: well; under pytest-xdist the controller checks the calls of every worker against the policies of the
#: worker that ran the test.
SESSION_POLICIES: list[dict[str, list[dict]]] = []

# A DynamoDB stream's ARN ends in a label moto makes from the clock: each worker's stack has its own, so
# policies resolved in one worker name the others' streams with a wildcard label.
_STREAM_LABEL = re.compile(r'(:table/[^/"]+/stream/)[^/"]+')


def worker_report() -> bytes:
    """What an xdist worker hands the controller at its end: its recorded calls and, if the conformance
    test ran there, the resolved policies (pickled: execnet carries plain values)."""
    from infra.local.aws_calls import recorded

    return pickle.dumps({"calls": recorded(), "policies": SESSION_POLICIES[-1] if SESSION_POLICIES else None})


def tenant_role_denials(calls: Iterable[Call]) -> list[Denial]:
    """Calls a gateway adapter made as a tenant's role (recorded as ``<function>:tenant-role``) that the role
    template does not grant: every API Gateway operation must be in ``adapters.gateways.aws.PERMISSIONS``."""
    from botocore import xform_name

    from infra.local.aws_calls import TENANT_ROLE_SUFFIX
    from tollgate.adapters.gateways.aws import PERMISSIONS

    granted = {p.operation for p in PERMISSIONS}
    return sorted(
        Denial("tenant role (GET /v1/integrations/aws/role-template)", f"apigateway:{c.operation}", "*")
        for c in set(calls)
        if c.function.endswith(TENANT_ROLE_SUFFIX)
        and c.service == "apigateway"
        and xform_name(c.operation) not in granted
    )


def session_denials(worker_reports: Iterable[bytes] = ()) -> list[Denial]:
    from infra.local.aws_calls import recorded

    calls = set(recorded())
    policies = SESSION_POLICIES[-1] if SESSION_POLICIES else None
    for raw in worker_reports:
        report = pickle.loads(raw)  # our own workers' output, never outside input
        calls |= report["calls"]
        policies = policies or report["policies"]
    if policies is None:
        return tenant_role_denials(calls)
    portable = json.loads(_STREAM_LABEL.sub(r"\1*", json.dumps(policies)))
    return check_functions(calls, portable.get)[0] + tenant_role_denials(calls)
